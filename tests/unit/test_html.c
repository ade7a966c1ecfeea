/*
 * Unit tests for html.c, the HTML input layer (issue 16): the text that
 * gz_html_extract takes from a page, exactly, and where each byte of it
 * comes from, checked by slicing the page.  check_map() runs on every
 * extraction: each character of the text (or each run of characters that
 * one reference decodes to) must be what its slice of the page decodes to,
 * every inserted blank line an empty slice, the map monotonic and exact.
 * The news pages in tests/data/html/ are compared with their expected text
 * and sliced at the names they hold.
 */
#include "unit_helpers.h"

#include "html.h"
#include "json.h"

/* ------------------------------------------------------------ helpers */

/* The references the tests' pages use, as the parser decodes them. */
static const char *ref_value(const char *name, size_t len)
{
	static const char *const refs[][2] = {
		{ "amp;", "&" }, { "amp", "&" }, { "AMP;", "&" }, { "lt;", "<" }, { "gt;", ">" },
		{ "quot;", "\"" }, { "apos;", "'" }, { "nbsp;", "\xC2\xA0" },
		{ "mdash;", "\xE2\x80\x94" }, { "ndash;", "\xE2\x80\x93" },
		{ "middot;", "\xC2\xB7" }, { "copy;", "\xC2\xA9" }, { "copy", "\xC2\xA9" },
		{ "euro;", "\xE2\x82\xAC" }, { "shy;", "\xC2\xAD" }, { "rsquo;", "\xE2\x80\x99" },
		{ "not", "\xC2\xAC" }, { "notin;", "\xE2\x88\x89" }, { "fjlig;", "fj" },
		{ "NotEqualTilde;", "\xE2\x89\x82\xCC\xB8" },
	};
	for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
		if (strlen(refs[i][0]) == len && memcmp(refs[i][0], name, len) == 0)
			return refs[i][1];
	return NULL;
}

static size_t put_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) { out[0] = (char)cp; return 1; }
	if (cp < 0x800) { out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F)); return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* What the page's bytes s[0..n), the source of one stretch of text, decode
 * to: a reference, or the bytes themselves. */
static size_t decode_slice(const char *s, size_t n, char *out)
{
	if (n > 2 && s[0] == '&' && s[1] == '#') {
		int hex = (s[2] | 0x20) == 'x';
		uint32_t v = (uint32_t)strtoul(s + 2 + hex, NULL, hex ? 16 : 10);
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		if (v == 0x80)   /* the one C1 number the tests use: Windows-1252's euro */
			v = 0x20AC;
		return put_utf8(v, out);
	}
	if (n > 1 && s[0] == '&') {
		const char *v = ref_value(s + 1, n - 1);
		if (!v)
			fail_msg("a reference the test does not know: %.*s", (int)n, s);
		strcpy(out, v);
		return strlen(v);
	}
	memcpy(out, s, n);
	return n;
}

/* The map's contract, over the whole text. */
static void check_map(const char *html, size_t hlen, const struct gz_html_text *x)
{
	assert_int_equal(x->inexact, 0);
	assert_int_equal(strlen(x->text), x->len);
	size_t b = 0;
	while (b < x->len) {
		uint32_t s = x->src_start[b], e = x->src_end[b];
		assert_true(s <= e && e <= hlen);
		if (b) {
			assert_true(x->src_start[b - 1] <= s);
			assert_true(x->src_end[b - 1] <= s || (x->src_start[b - 1] == s && x->src_end[b - 1] == e));
		}
		size_t g = b;
		while (g < x->len && x->src_start[g] == s && x->src_end[g] == e)
			g++;
		if (s == e) {   /* an inserted blank line */
			assert_int_equal(g - b, 2);
			assert_memory_equal(x->text + b, "\n\n", 2);
		} else {
			char want[64];
			assert_true(e - s < sizeof want);
			size_t wl = decode_slice(html + s, e - s, want);
			int fffd = g - b == 3 && memcmp(x->text + b, "\xEF\xBF\xBD", 3) == 0 &&
				   e - s <= 4;   /* a control, a NUL, a noncharacter */
			int line_break = (x->text[b] == ' ' || x->text[b] == '\n') && g - b == 1 &&
				(memcmp(html + s, "\n", e - s) == 0 || memcmp(html + s, "\r\n", e - s) == 0 ||
				 memcmp(html + s, "\r", e - s) == 0 || memcmp(html + s, "\f", e - s) == 0);
			if (!line_break && !fffd && (wl != g - b || memcmp(want, x->text + b, wl) != 0))
				fail_msg("text byte %zu: '%.*s' comes from page [%u, %u) '%.*s'", b,
					 (int)(g - b), x->text + b, s, e, (int)(e - s), html + s);
		}
		b = g;
	}
}

static void extract(const char *html, size_t len, struct gz_html_text *x)
{
	struct gz_error err;
	memset(&err, 0, sizeof err);
	int r = gz_html_extract(html, len, NULL, x, &err);
	if (r)
		fprintf(stderr, "  extract: %s\n", err.message);
	assert_int_equal(r, 0);
	check_map(html, len, x);
}

/* The text of html; checks the map.  Static buffer. */
static const char *text_of(const char *html)
{
	static char out[16384];
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	assert_true(x.len < sizeof out);
	memcpy(out, x.text, x.len + 1);
	gz_html_text_free(&x);
	return out;
}

/* The page's bytes behind the text's bytes [bs, be).  Static buffer. */
static const char *slice(const struct gz_html_text *x, const char *html, size_t bs, size_t be)
{
	static char out[4096];
	size_t os, oe;
	gz_html_map_range(x, bs, be, &os, &oe);
	assert_true(os <= oe && oe - os < sizeof out);
	memcpy(out, html + os, oe - os);
	out[oe - os] = 0;
	return out;
}

/* The page's bytes behind the text from the first occurrence of from to
 * the end of the first occurrence of to after it. */
static const char *slice_of(const struct gz_html_text *x, const char *html, const char *from,
			    const char *to)
{
	const char *a = strstr(x->text, from);
	if (!a)
		fail_msg("'%s' is not in the text", from);
	const char *z = strstr(a, to);
	if (!z)
		fail_msg("'%s' is not in the text after '%s'", to, from);
	return slice(x, html, (size_t)(a - x->text), (size_t)(z - x->text) + strlen(to));
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (tests run from the source root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* ------------------------------------------------------- the text rules */

static void test_inline_elements_join_a_name(void **state)
{
	(void)state;
	const char *html = "<b>Kyiv</b> &amp; <i>Lviv</i>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv & Lviv");
	static const uint32_t starts[] = { 3, 4, 5, 6, 11, 12, 17, 21, 22, 23, 24 };
	static const uint32_t ends[] = { 4, 5, 6, 7, 12, 17, 18, 22, 23, 24, 25 };
	assert_int_equal(x.len, 11);
	assert_memory_equal(x.src_start, starts, sizeof starts);
	assert_memory_equal(x.src_end, ends, sizeof ends);
	assert_string_equal(slice(&x, html, 0, 11), "Kyiv</b> &amp; <i>Lviv");
	gz_html_text_free(&x);

	assert_string_equal(text_of("<b>Volodymyr</b> Zelensky"), "Volodymyr Zelensky");
	const char *inl[] = { "b", "i", "a", "span", "em", "strong", "u", "s", "small", "sup",
			      "sub", "code", "abbr", "cite", "q", "mark", "time", "label", "font",
			      "bdi", "ins", "del", "kbd", "nobr", "my-widget", "x" };
	for (size_t i = 0; i < sizeof inl / sizeof inl[0]; i++) {
		char h[128];
		snprintf(h, sizeof h, "<p>Zelen<%s class=\"k\">sky</%s> Kyiv</p>", inl[i], inl[i]);
		assert_string_equal(text_of(h), "Zelensky Kyiv");
	}
	/* void inline elements split nothing either */
	assert_string_equal(text_of("Zelen<wbr>sky Ky<img src=x alt=\"Lviv\">iv"), "Zelensky Kyiv");
}

static void test_block_elements_insert_one_blank_line(void **state)
{
	(void)state;
	const char *html = "<p>Kyiv</p>\n<p>Odesa</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv\n\nOdesa");
	static const uint32_t starts[] = { 3, 4, 5, 6, 7, 7, 15, 16, 17, 18, 19 };
	static const uint32_t ends[] = { 4, 5, 6, 7, 7, 7, 16, 17, 18, 19, 20 };
	assert_memory_equal(x.src_start, starts, sizeof starts);
	assert_memory_equal(x.src_end, ends, sizeof ends);
	/* the blank line is an empty range at the </p> that made it */
	assert_string_equal(slice(&x, html, 4, 6), "");
	assert_string_equal(slice(&x, html, 0, 11), "Kyiv</p>\n<p>Odesa");
	gz_html_text_free(&x);

	const char *blocks[] = { "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
				 "section", "article", "header", "footer", "figure", "figcaption",
				 "blockquote", "pre", "dd", "dt", "dl", "nav", "aside", "main",
				 "address", "center", "details", "summary", "fieldset", "legend",
				 "form", "hgroup", "menu", "listing" };
	/* (gumbo puts text read inside a <form> after it: see closes_form
	 * in html.c) */
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		char h[128];
		snprintf(h, sizeof h, "Volodymyr<%s>Zelensky</%s>Kyiv", blocks[i], blocks[i]);
		assert_string_equal(text_of(h), "Volodymyr\n\nZelensky\n\nKyiv");
	}
	assert_string_equal(text_of("Volodymyr<br>Zelensky<hr>Kyiv<br/>Lviv</br>Odesa"),
			    "Volodymyr\n\nZelensky\n\nKyiv\n\nLviv\n\nOdesa");
	assert_string_equal(text_of("<table><caption>Kyiv</caption><tr><th>Lviv</th><td>Odesa"
				    "</td></tr><tr><td>Dnipro</td></tr></table>"),
			    "Kyiv\n\nLviv\n\nOdesa\n\nDnipro");
	/* one blank line however many tags, and nothing at either end */
	assert_string_equal(text_of("<div><div><p> Kyiv </p></div>\n\n <ul>\n<li> Lviv</ul></div>"),
			    "Kyiv\n\nLviv");
	/* a block with no text still breaks the line */
	assert_string_equal(text_of("Kyiv<p></p>Lviv"), "Kyiv\n\nLviv");
	assert_string_equal(text_of("<div>Kyiv</p>Lviv</div>"), "Kyiv\n\nLviv");
}

static void test_excluded_content_is_no_text(void **state)
{
	(void)state;
	assert_string_equal(text_of("<head><title>Kyiv</title><style>p{}</style>"
				    "<script>var a = '<p>Lviv</p>';</script></head>"
				    "<body>Odesa</body>"), "Odesa");
	assert_string_equal(text_of("Od<script>x</script>e<!-- Lviv -->s<style>y</style>a"
				    "<template><p>Kyiv</p></template>"), "Odesa");
	assert_string_equal(text_of("<p title=\"Kyiv\" data-x='Lviv'>Odesa <a href=\"/Dnipro\">"
				    "Kharkiv</a> <img alt=\"Sumy\"></p>"), "Odesa Kharkiv");
	assert_string_equal(text_of("<p>Odesa<textarea>Kyiv</textarea><select><option>Lviv"
				    "</select><iframe>Sumy</iframe><noembed>Rivne</noembed></p>"),
			    "Odesa");
	assert_string_equal(text_of("<p>Odesa <svg><title>Kyiv</title><text>Lviv</text></svg>"
				    "<math><mi>x</mi></math> Dnipro</p>"), "Odesa  Dnipro");
	assert_string_equal(text_of("<p>Odesa</p><noscript><p>Kyiv</p></noscript>"), "Odesa");
	assert_string_equal(text_of("<!DOCTYPE html><!-- Kyiv -->"), "");
}

static void test_character_references_decoded_and_mapped(void **state)
{
	(void)state;
	const char *html = "<p>Zelensky&#x2019;s &amp; O&#39;Neill&nbsp;x &copy 2024 &notit; "
			   "&fjlig; &#128; &#0; &#x110000; &foo; &#; &#x; &amp</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Zelensky\xE2\x80\x99s & O'Neill\xC2\xA0x \xC2\xA9 2024 "
			    "\xC2\xACit; fj \xE2\x82\xAC \xEF\xBF\xBD \xEF\xBF\xBD &foo; &#; &#x; &");
	assert_string_equal(slice_of(&x, html, "Zelensky", "s "), "Zelensky&#x2019;s ");
	assert_string_equal(slice_of(&x, html, "\xE2\x80\x99", "\xE2\x80\x99"), "&#x2019;");
	assert_string_equal(slice_of(&x, html, "O'", "Neill"), "O&#39;Neill");
	assert_string_equal(slice_of(&x, html, "\xC2\xA0", "\xC2\xA0"), "&nbsp;");
	assert_string_equal(slice_of(&x, html, "\xC2\xA9", "\xC2\xA9"), "&copy");
	/* the longest name the table knows: &not, then "it;" as text */
	assert_string_equal(slice_of(&x, html, "\xC2\xAC", "\xC2\xAC"), "&not");
	assert_string_equal(slice_of(&x, html, "\xC2\xACi", "t;"), "&notit;");
	/* one reference, two characters: both map to all of it */
	assert_string_equal(slice_of(&x, html, "f", "f"), "&fjlig;");
	assert_string_equal(slice_of(&x, html, "fj", "fj"), "&fjlig;");
	assert_string_equal(slice_of(&x, html, "\xE2\x82\xAC", "\xE2\x82\xAC"), "&#128;");
	assert_string_equal(slice_of(&x, html, "\xEF\xBF\xBD", "\xEF\xBF\xBD"), "&#0;");
	assert_string_equal(slice_of(&x, html, "&foo", ";"), "&foo;");
	gz_html_text_free(&x);
	assert_string_equal(text_of("&notin; &NotEqualTilde; &AMP; &lt;b&gt;"),
			    "\xE2\x88\x89 \xE2\x89\x82\xCC\xB8 & <b>");
}

static void test_line_breaks_are_spaces_outside_pre(void **state)
{
	(void)state;
	/* a blank line in a paragraph's source is layout: no paragraph break */
	const char *html = "<p>Volodymyr\n\nZelensky\r\nin\rKyiv\fnow</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Volodymyr  Zelensky in Kyiv now");
	assert_string_equal(slice_of(&x, html, "Zelensky ", "in"), "Zelensky\r\nin");
	assert_string_equal(slice_of(&x, html, "in ", "Kyiv"), "in\rKyiv");
	gz_html_text_free(&x);
	/* in <pre> a line break stays one, and a blank line is a paragraph break */
	html = "<pre>Kyiv  12\r\n\r\nLviv\t7\n</pre>";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv  12\n\nLviv\t7");
	assert_string_equal(slice_of(&x, html, "12", "Lviv"), "12\r\n\r\nLviv");
	gz_html_text_free(&x);
	assert_string_equal(text_of("<pre><b>Kyiv</b>\n\n<i>Lviv</i></pre>after"), "Kyiv\n\nLviv\n\nafter");
	assert_string_equal(text_of("  \n <p>  Kyiv \n </p>\t"), "Kyiv");
}

static void test_malformed_html_gives_text(void **state)
{
	(void)state;
	/* stray end tags inside a run of text are dropped by the parser */
	const char *html = "<p>Volo</span>dymyr Zel</>ensky</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Volodymyr Zelensky");
	assert_string_equal(slice_of(&x, html, "Volodymyr", "Zelensky"), "Volo</span>dymyr Zel</>ensky");
	gz_html_text_free(&x);
	/* a quoted attribute value of an ignored tag may hold a '>' */
	html = "<p>Ky</span title=\"a>b\" c='>'>iv</p>";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv");
	assert_string_equal(slice(&x, html, 2, 3), "i");
	assert_int_equal(x.src_start[2], strlen("<p>Ky</span title=\"a>b\" c='>'>"));
	gz_html_text_free(&x);
	/* a '<' that starts no tag is text */
	html = "x < y <3 Kyiv<";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "x < y <3 Kyiv<");
	gz_html_text_free(&x);
	/* unclosed tags, text after </html>, NUL bytes */
	assert_string_equal(text_of("<div><p>Kyiv<b>Lviv<i>Odesa"), "KyivLvivOdesa");
	assert_string_equal(text_of("<p>Kyiv</p></body></html>Lviv</html>Odesa"), "Kyiv\n\nLvivOdesa");
	html = "<p>Ky\0iv</p>";
	extract(html, 12, &x);
	assert_string_equal(x.text, "Kyiv");
	assert_string_equal(slice(&x, html, 0, 4), "Ky");   /* stops at the NUL: a C string */
	assert_memory_equal(html + x.src_start[0], "Ky\0iv", 5);
	assert_int_equal(x.src_end[3], 8);
	gz_html_text_free(&x);
	/* a dropped NUL before a control: the U+FFFD is the control's */
	html = "<p>Ky\0\x1Eiv</p>";
	extract(html, 13, &x);
	assert_string_equal(x.text, "Ky\xEF\xBF\xBDiv");
	assert_int_equal(x.src_start[2], 6);
	gz_html_text_free(&x);
	html = "<p>Ky\0&#0;iv</p>";
	extract(html, 16, &x);
	assert_string_equal(x.text, "Ky\xEF\xBF\xBDiv");
	assert_string_equal(slice(&x, html, 2, 5), "&#0;");
	gz_html_text_free(&x);
	/* controls and noncharacters: U+FFFD, from the one character */
	html = "<p>Ky\x1E\x0Biv\xEF\xB7\x90</p>";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Ky\xEF\xBF\xBD\xEF\xBF\xBDiv\xEF\xBF\xBD");
	assert_string_equal(slice(&x, html, 2, 5), "\x1E");
	assert_string_equal(slice(&x, html, 10, 13), "\xEF\xB7\x90");
	gz_html_text_free(&x);
	/* numbers past U+10FFFF are U+FFFD (gumbo, left to itself, writes
	 * bytes that are no UTF-8 past 2^31, or drops the rest of the text) */
	html = "<p>Ky&#x2019CCCCCCCCCC;iv &#x80000000; Lviv &#4294967296</p><p>Sumy</p>";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Ky\xEF\xBF\xBDiv \xEF\xBF\xBD Lviv \xEF\xBF\xBD\n\nSumy");
	assert_string_equal(slice(&x, html, 2, 5), "&#x2019CCCCCCCCCC;");
	assert_string_equal(slice(&x, html, 8, 11), "&#x80000000;");
	gz_html_text_free(&x);
	/* text inside a table moves out of it in the tree; the text keeps the
	 * page's order, so that spans map onto the page in order */
	html = "<table><tr><td>Kyiv</td>Lviv<td>Odesa</td></tr></table>";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv\n\nLviv\n\nOdesa");
	gz_html_text_free(&x);
	/* misnested formatting (the adoption agency moves nodes) */
	assert_string_equal(text_of("<b>Kyiv<p>Lviv</b>Odesa</p>"), "Kyiv\n\nLvivOdesa");
	assert_string_equal(text_of("<a href=x>Kyiv<a href=y>Lviv</a>"), "KyivLviv");
	/* gumbo places text read in a <form> after it, "</form>" inside
	 * the text: the form's end tag still breaks the text there, and so
	 * does every </form> between two pieces of text, stray ones too */
	html = "<div><form>Kyiv</form>Lviv</div>";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv\n\nLviv");
	assert_int_equal(x.src_start[4], 15);
	assert_memory_equal(html + 15, "</form>", 7);
	gz_html_text_free(&x);
	assert_string_equal(text_of("<form>Ky<b>i</b>v</form>Lviv<form><i>Sumy</i></form>Rivne"),
			    "Kyiv\n\nLviv\n\nSumy\n\nRivne");
	assert_string_equal(text_of("<form>Kyiv</form x>Lviv</form>Sumy"), "Kyiv\n\nLviv\n\nSumy");
	assert_string_equal(text_of("<form>Kyiv</form><x>Lviv</x>"), "Kyiv\n\nLviv");
	assert_string_equal(text_of("<form>Kyiv<p>Lviv</form>Sumy"), "Kyiv\n\nLviv\n\nSumy");
	assert_string_equal(text_of("<div>Kyiv</FORM >Lviv</div>"), "Kyiv\n\nLviv");
	/* (not inside another tag or a comment) */
	assert_string_equal(text_of("<p><b>Kyiv</bX</form>Lviv</p>"), "KyivLviv");
	assert_string_equal(text_of("<p><b>Kyiv</b><!-- </form> -->Lviv</p>"), "KyivLviv");
	assert_string_equal(text_of("<p>Kyiv<script>'<a b=\"'</script>Lviv<title></form></title>"
				    "Sumy\"</p>"), "KyivLvivSumy\"");
	/* (gumbo closes an unknown element with any unknown end tag) */
	assert_string_equal(text_of("<form><x>Kyiv</form>Lviv</y>Sumy"), "Kyiv\n\nLvivSumy");
	html = "<form>\0\0Kyiv</form>Lviv";
	extract(html, 23, &x);
	assert_string_equal(x.text, "Kyiv\n\nLviv");
	gz_html_text_free(&x);
	assert_string_equal(text_of("<p <p>Kyiv</p>"), "Kyiv");
	assert_string_equal(text_of("<p>Kyiv</p><p attr=\"unterminated>Lviv"), "Kyiv");
	assert_string_equal(text_of("<!-- unterminated comment <p>Kyiv"), "");
	assert_string_equal(text_of("<![CDATA[Kyiv]]>Lviv"), "Lviv");
	assert_string_equal(text_of("<isindex prompt=\"Kyiv\">Lviv"), "Lviv");
}

static void test_invalid_utf8_is_an_error_with_its_offset(void **state)
{
	(void)state;
	struct gz_html_text x;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	const char *html = "<p>Kyiv \xC3\x28 Lviv</p>";
	assert_int_equal(gz_html_extract(html, strlen(html), NULL, &x, &err), GZ_EUTF8);
	assert_int_equal(err.offset, 8);
	assert_string_equal(err.message, "invalid UTF-8 at byte 8");
	assert_null(x.text);
	gz_html_text_free(&x);   /* harmless after an error */
	/* in an attribute or a comment too: the offsets are the page's */
	html = "<p title=\"\xED\xA0\x80\">Kyiv</p>";
	assert_int_equal(gz_html_extract(html, strlen(html), NULL, &x, &err), GZ_EUTF8);
	assert_int_equal(err.offset, 10);
}

/* n copies of open, then the text, as a heap string */
static char *nested(const char *open, size_t n, const char *text, size_t *len)
{
	size_t ol = strlen(open), tl = strlen(text);
	char *h = malloc(ol * n + tl + 1);
	assert_non_null(h);
	for (size_t i = 0; i < n; i++)
		memcpy(h + i * ol, open, ol);
	memcpy(h + ol * n, text, tl + 1);
	*len = ol * n + tl;
	return h;
}

static void test_deep_nesting_gives_text_or_a_clear_error(void **state)
{
	(void)state;
	struct gz_html_text x;
	struct gz_error err;
	memset(&err, 0, sizeof err);
	size_t len;
	/* 100,000 nested inline elements: linear for gumbo, and our walk of
	 * the tree does not recurse */
	struct gz_html_limits generous = { .cpu_ms = 20000 };
	const char *fast[] = { "<span>", "<p>", "<table>", "<a>", "<li>" };
	for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++) {
		char *h = nested(fast[i], 100000, "Kyiv", &len);
		int r = gz_html_extract(h, len, &generous, &x, &err);
		if (r)
			fprintf(stderr, "  %s: %s\n", fast[i], err.message);
		assert_int_equal(r, 0);
		assert_string_equal(x.text, "Kyiv");
		assert_int_equal(x.src_start[0], len - 4);
		gz_html_text_free(&x);
		free(h);
	}
	/* 100,000 nested <div>: gumbo is quadratic (24 s); the CPU budget
	 * stops it */
	struct gz_html_limits quick = { .cpu_ms = 300 };
	char *h = nested("<div>", 100000, "Kyiv", &len);
	assert_int_equal(gz_html_extract(h, len, &quick, &x, &err), GZ_ECOMPLEX);
	assert_string_equal(err.message, "HTML too complex: parsing it takes more than 300 ms of "
			    "CPU time (elements nested too deeply?)");
	assert_null(x.text);
	/* and the memory budget */
	struct gz_html_limits small = { .cpu_ms = 20000, .memory = (size_t)1 << 20 };
	assert_int_equal(gz_html_extract(h, 50000, &small, &x, &err), GZ_ECOMPLEX);
	assert_string_equal(err.message, "HTML too complex: parsing it needs more than 1 MiB");
	free(h);
	/* the same page fits the default budget when it is flat */
	h = nested("<div></div>", 100000, "Kyiv", &len);
	assert_int_equal(gz_html_extract(h, len, NULL, &x, &err), 0);
	assert_string_equal(x.text, "Kyiv");
	gz_html_text_free(&x);
	free(h);
}

static void test_empty_and_whitespace_pages(void **state)
{
	(void)state;
	struct gz_html_text x;
	extract("", 0, &x);
	assert_string_equal(x.text, "");
	assert_int_equal(x.len, 0);
	size_t os = 9, oe = 9;
	gz_html_map_range(&x, 0, 0, &os, &oe);
	assert_int_equal(os, 0);
	assert_int_equal(oe, 0);
	gz_html_text_free(&x);
	assert_string_equal(text_of(" \n\t "), "");
	assert_string_equal(text_of("<p>&nbsp;</p>"), "\xC2\xA0");   /* not a space to HTML */
}

/* ------------------------------------------------------------- mapping */

static void test_map_range_edges(void **state)
{
	(void)state;
	const char *html = "<p>Kyiv</p><p>Lviv</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv\n\nLviv");
	size_t os, oe;
	gz_html_map_range(&x, 2, 2, &os, &oe);   /* empty: where byte 2 starts */
	assert_int_equal(os, 5);
	assert_int_equal(oe, 5);
	gz_html_map_range(&x, 6, 100, &os, &oe);   /* past the end: clamped */
	assert_int_equal(os, 14);
	assert_int_equal(oe, 18);
	gz_html_map_range(&x, 100, 200, &os, &oe);
	assert_int_equal(os, 18);
	assert_int_equal(oe, 18);
	gz_html_map_range(&x, 3, 8, &os, &oe);   /* across the blank line */
	assert_string_equal(slice(&x, html, 3, 8), "v</p><p>Lv");
	gz_html_text_free(&x);
}

static void test_map_spans_to_each_unit(void **state)
{
	(void)state;
	/* Cyrillic (2 bytes, 1 unit) and an emoji (4 bytes, 2 UTF-16 units)
	 * before the name */
	const char *html = "<p>\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2 &#x1F4E2; \xF0\x9F\x93\xA2 "
			   "<b>Volodymyr</b> Zelensky</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	const char *a = strstr(x.text, "Volodymyr");
	assert_non_null(a);
	struct gz_span sp[2];
	memset(sp, 0, sizeof sp);
	sp[0].byte_start = (size_t)(a - x.text);
	sp[0].byte_end = sp[0].byte_start + strlen("Volodymyr Zelensky");
	sp[1].byte_start = 0;   /* Київ */
	sp[1].byte_end = 8;
	const enum gz_offsets units[] = { GZ_OFFSETS_BYTE, GZ_OFFSETS_CODEPOINT, GZ_OFFSETS_UTF16 };
	/* "<p>" 3, "Київ" 4 (8 bytes), " &#x1F4E2; " 11, the emoji 1 (2 in
	 * UTF-16, 4 bytes), " <b>" 4 */
	const size_t want[3][4] = { { 30, 52, 3, 11 }, { 23, 45, 3, 7 }, { 24, 46, 3, 7 } };
	for (size_t u = 0; u < 3; u++) {
		struct gz_span s2[2];
		memcpy(s2, sp, sizeof sp);
		assert_int_equal(gz_html_map_spans(&x, html, strlen(html), s2, 2, units[u]), 0);
		assert_int_equal(s2[0].start, want[u][0]);
		assert_int_equal(s2[0].end, want[u][1]);
		assert_int_equal(s2[1].start, want[u][2]);
		assert_int_equal(s2[1].end, want[u][3]);
		assert_int_equal(s2[0].byte_start, 30);
		assert_int_equal(s2[0].byte_end, 52);
		assert_memory_equal(html + s2[0].byte_start, "Volodymyr</b> Zelensky", 22);
	}
	gz_html_text_free(&x);
	/* gz_html_offsets_to_unit: any order, repeats */
	size_t offs[] = { 11, 3, 0, 11, 30 };
	assert_int_equal(gz_html_offsets_to_unit(html, strlen(html), offs, 5, GZ_OFFSETS_UTF16), 0);
	const size_t want16[] = { 7, 3, 0, 7, 24 };
	assert_memory_equal(offs, want16, sizeof want16);
}

/* The whole pipeline of phase 2, in the engine: extract, tag the text,
 * map the spans onto the page. */
static void test_tagger_spans_map_onto_the_page(void **state)
{
	(void)state;
	struct gz_set *set = load_yaml(
		"type: person\nentries:\n"
		"  - {id: volodymyr-zelensky, name: Volodymyr Zelensky, aliases: [Zelensky]}\n"
		"  - {id: kyiv, name: Kyiv, type: place}\n");
	const char *html = "<p><b>Volodymyr</b> Zelensky&#x2019;s visit to <a href=/k>Ky</a>iv.</p>"
			   "<p>Volodymyr</p><p>Zelensky</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	struct gz_tagger *t = gz_tagger_new();
	struct gz_tag_options o;
	gz_tag_options_init(&o);
	o.offsets = GZ_OFFSETS_BYTE;
	assert_int_equal(gz_tagger_run(t, set, x.text, x.len, &o, NULL), 0);
	size_t n = gz_tagger_span_count(t);
	assert_int_equal(n, 3);
	struct gz_span sp[3];
	memcpy(sp, gz_tagger_spans(t), sizeof sp);
	assert_int_equal(gz_html_map_spans(&x, html, strlen(html), sp, n, GZ_OFFSETS_CODEPOINT), 0);
	const char *want[] = { "Volodymyr</b> Zelensky", "Ky</a>iv", "Zelensky" };
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sp[i].byte_end - sp[i].byte_start, strlen(want[i]));
		assert_memory_equal(html + sp[i].byte_start, want[i], strlen(want[i]));
		assert_int_equal(sp[i].start, sp[i].byte_start);   /* all ASCII */
	}
	assert_string_equal(gz_entry_id(sp[0].entry), "volodymyr-zelensky");
	assert_string_equal(gz_entry_id(sp[1].entry), "kyiv");
	assert_string_equal(gz_entry_id(sp[2].entry), "volodymyr-zelensky");
	gz_tagger_free(t);
	gz_html_text_free(&x);
	gz_set_unref(set);
}

/* ------------------------------------------------------------ annotate */

static char *annotate(const char *html, const struct gz_html_text *x,
		      const struct gz_html_mark *marks, size_t n)
{
	struct gz_buf out = { 0 };
	assert_int_equal(gz_html_annotate(html, strlen(html), x, marks, n, &out, NULL), 0);
	gz_buf_append(&out, "", 0);
	assert_non_null(out.data);
	return out.data;
}

/* A mark for the text from the first `from` to the end of `to`. */
static struct gz_html_mark mark_of(const struct gz_html_text *x, const char *from,
				   const char *to, const char *type, const char *id)
{
	const char *a = strstr(x->text, from);
	assert_non_null(a);
	const char *z = strstr(a, to);
	assert_non_null(z);
	struct gz_html_mark m = { 0, 0, type, id };
	gz_html_map_range(x, (size_t)(a - x->text), (size_t)(z - x->text) + strlen(to), &m.start, &m.end);
	return m;
}

/* Annotating adds no text: the result extracts to the same text. */
static void check_same_text(const char *annotated, const struct gz_html_text *x)
{
	struct gz_html_text y;
	extract(annotated, strlen(annotated), &y);
	assert_string_equal(y.text, x->text);
	gz_html_text_free(&y);
}

static void test_annotate_closes_and_reopens_around_markup(void **state)
{
	(void)state;
	const char *html = "<p><b>Volodymyr</b> Zelensky&#x2019;s visit to Kyiv.</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	struct gz_html_mark m[2] = {
		mark_of(&x, "Kyiv", "Kyiv", "place", "kyiv"),
		mark_of(&x, "Volodymyr", "Zelensky", "person", "volodymyr-zelensky"),
	};
	char *out = annotate(html, &x, m, 2);
	assert_string_equal(out,
		"<p><b><mark class=\"gz-person\" data-gz-id=\"volodymyr-zelensky\">Volodymyr</mark></b>"
		"<mark class=\"gz-person\" data-gz-id=\"volodymyr-zelensky\"> Zelensky</mark>"
		"&#x2019;s visit to <mark class=\"gz-place\" data-gz-id=\"kyiv\">Kyiv</mark>.</p>");
	check_same_text(out, &x);
	free(out);
	gz_html_text_free(&x);

	/* a reference stays whole inside its mark; comments and ignored tags
	 * stay outside */
	html = "<p>O&#39;Ne<!-- x -->ill and Ky</span>iv</p>";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "O'Neill and Kyiv");
	struct gz_html_mark m2[2] = {
		mark_of(&x, "O'", "Neill", "person", "o-neill"),
		mark_of(&x, "Kyiv", "Kyiv", "place", "kyiv"),
	};
	out = annotate(html, &x, m2, 2);
	assert_string_equal(out,
		"<p><mark class=\"gz-person\" data-gz-id=\"o-neill\">O&#39;Ne</mark><!-- x -->"
		"<mark class=\"gz-person\" data-gz-id=\"o-neill\">ill</mark> and "
		"<mark class=\"gz-place\" data-gz-id=\"kyiv\">Ky</mark></span>"
		"<mark class=\"gz-place\" data-gz-id=\"kyiv\">iv</mark></p>");
	check_same_text(out, &x);
	free(out);
	gz_html_text_free(&x);
}

static void test_annotate_escapes_and_skips_overlaps(void **state)
{
	(void)state;
	const char *html = "<p>Kyiv Oblast and Lviv</p>";
	struct gz_html_text x;
	extract(html, strlen(html), &x);
	struct gz_html_mark m[5] = {
		mark_of(&x, "Kyiv", "Kyiv", "place", "kyiv"),               /* inside the next: out */
		mark_of(&x, "Kyiv", "Oblast", "admin region", "kyiv-\"oblast\" <&'>"),
		mark_of(&x, "Oblast", "Lviv", "place", "crossing"),         /* overlaps: out */
		mark_of(&x, "Lviv", "Lviv", "place", "lviv"),
		{ 3, 3, "place", "empty" },                                 /* empty: out */
	};
	char *out = annotate(html, &x, m, 5);
	assert_string_equal(out,
		"<p><mark class=\"gz-admin-region\" data-gz-id=\"kyiv-&quot;oblast&quot; "
		"&lt;&amp;&#39;&gt;\">Kyiv Oblast</mark> and "
		"<mark class=\"gz-place\" data-gz-id=\"lviv\">Lviv</mark></p>");
	free(out);
	gz_html_text_free(&x);
	/* "</" at the end of a page is text, but not before a </mark> */
	html = "Kyiv</";
	extract(html, strlen(html), &x);
	assert_string_equal(x.text, "Kyiv</");
	struct gz_html_mark end = mark_of(&x, "Kyiv", "</", "place", "kyiv");
	out = annotate(html, &x, &end, 1);
	assert_string_equal(out, "<mark class=\"gz-place\" data-gz-id=\"kyiv\">Kyiv</mark></");
	check_same_text(out, &x);
	free(out);
	gz_html_text_free(&x);
	html = "<p>Kyiv Oblast and Lviv</p>";
	extract(html, strlen(html), &x);
	/* no marks: the page as it was */
	out = annotate(html, &x, NULL, 0);
	assert_string_equal(out, html);
	free(out);
	gz_html_text_free(&x);
}

/* ------------------------------------------------------ the news pages */

struct page_slice {
	const char *from, *to;   /* the text from `from` to the end of `to` */
	const char *page;        /* the page's bytes behind it */
};

static void check_page(const char *name, const struct page_slice *slices, size_t n)
{
	char path[256];
	size_t len, tlen;
	snprintf(path, sizeof path, "tests/data/html/%s.html", name);
	char *html = read_file(path, &len);
	snprintf(path, sizeof path, "tests/data/html/%s.expected.txt", name);
	char *want = read_file(path, &tlen);
	assert_true(tlen > 0 && want[tlen - 1] == '\n');
	want[tlen - 1] = 0;
	struct gz_html_text x;
	extract(html, len, &x);
	assert_string_equal(x.text, want);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(slice_of(&x, html, slices[i].from, slices[i].to), slices[i].page);
	/* every name highlighted; the page keeps its text */
	struct gz_html_mark *m = calloc(n, sizeof(*m));
	assert_non_null(m);
	for (size_t i = 0; i < n; i++)
		m[i] = mark_of(&x, slices[i].from, slices[i].to, "name", slices[i].from);
	struct gz_buf out = { 0 };
	assert_int_equal(gz_html_annotate(html, len, &x, m, n, &out, NULL), 0);
	check_same_text(out.data, &x);
	free(out.data);
	free(m);
	gz_html_text_free(&x);
	free(html);
	free(want);
}

static void test_page_dnipro_ledger(void **state)
{
	(void)state;
	static const struct page_slice s[] = {
		{ "Olena", "Marchenko", "Olena Marchenko" },
		{ "President Volodymyr", "Zelensky", "President <b>Volodymyr</b> Zelensky" },
		{ "Kharkiv\xC2\xA0on", "on", "Kharkiv&nbsp;on" },
		{ "KHARKIV \xE2\x80\x94", "Volodymyr Zelensky",
		  "KHARKIV &mdash; President <a href=\"/topics/volodymyr-zelensky\">Volodymyr Zelensky" },
		{ "Zelensky\xE2\x80\x99s", "office", "Zelensky&#x2019;s office" },
		{ "Azov Brigade", "Brigade", "Azov</em> Brigade" },
		{ "Ihor Terekhov", "Kharkiv", "Ihor Terekhov, mayor of Kharkiv" },
		{ "NATO", "EU", "NATO&nbsp;&amp;&nbsp;EU" },
		{ "Ursula", "Leyen", "Ursula von&nbsp;der&nbsp;Leyen" },
		{ "Zelensky's", "Odesa", "Zelensky&apos;s visit to Odesa" },
		{ "12 Naberezhna", "Dnipro", "12 Naberezhna Street<br>Dnipro" },
	};
	check_page("dnipro-ledger-zelensky-kharkiv", s, sizeof s / sizeof s[0]);
}

static void test_page_northern_wire(void **state)
{
	(void)state;
	static const struct page_slice s[] = {
		{ "Azovstal steelworks", "Mariupol", "Azovstal</B> steelworks in Mariupol" },
		{ "Volodymyr Zelensky", "Zelensky", "Volodymyr\r\nZelensky" },
		{ "International Committee", "Red Cross", "International Committee of the Red Cross" },
		{ "Azov Regiment", "Regiment", "Azov Regiment" },
		{ "said.", "Deputy", "said.</span>\r\n<P>Deputy" },
		{ "Mark O'Neill", "Anna Smith", "Mark O&#39;Neill &amp Anna Smith" },
		{ "\xC2\xA9 2022", "Wire", "&copy 2022 Northern Wire" },
		{ "Novoazovsk\n", "Olenivka", "Novoazovsk\r\n 211           0     Olenivka" },
	};
	check_page("northern-wire-azovstal", s, sizeof s / sizeof s[0]);
}

static void test_page_baltic_courier(void **state)
{
	(void)state;
	static const struct page_slice s[] = {
		{ "Vilnius is", "Vilnius", "V</span>ilnius" },
		{ "Jens", "Stoltenberg", "Jens\n      Stoltenberg" },
		{ "Volodymyr\xC2\xA0Zelensky", "Zelensky", "Volodymyr&nbsp;Zelensky" },
		{ "\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2", "\xD0\xB2", "\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2" },
		{ "Azov  ", "Regiment", "Azov</em>\n      Regiment" },
		{ "Zaporizhzhia", "Zaporizhzhia", "Zapo<wbr>rizhzhia" },
		{ "Kher\xC2\xAD", "son", "Kher&shy;son" },
		{ "\xF0\x9F\x93\xA2", "\xF0\x9F\x93\xA2", "&#x1F4E2;" },
		{ "Source: NATO", "estimates", "Source: NATO estimates" },
		{ "Kyiv/", "Mariupol", "Kyiv&#x2F;Mariupol" },
	};
	check_page("baltic-courier-liveblog", s, sizeof s / sizeof s[0]);
}

static void test_page_kryvbas_herald(void **state)
{
	(void)state;
	static const struct page_slice s[] = {
		{ "Kryvyi\xC2\xA0Rih", "Rih", "Kryvyi&nbsp;Rih" },
		{ "Volodymyr Zelensky, who", "Zelensky", "Volodymyr</b> Zelensky" },
		{ "President Volodymyr", "Zelensky", "President <strong>Volodymyr\n</strong><em>Zelensky" },
		{ "Ernst & Young", "Young", "Ernst &amp; Young" },
		{ "Kam\xE2\x80\x99ianske and", "ianske", "Kam&#x2019;ianske" },
		{ "restart it1", "it1", "restart it<sup><a href=\"#n1\">1" },
		{ "Oleksandr\xC2\xA0Vilkul", "Vilkul", "Oleksandr&nbsp;Vilkul" },
		{ "Kharkiv\n\nOblast", "Oblast", "Kharkiv\n<li><a href=\"/a/5523\">Oblast" },
	};
	check_page("kryvbas-herald-steelworks", s, sizeof s / sizeof s[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_elements_join_a_name),
		cmocka_unit_test(test_block_elements_insert_one_blank_line),
		cmocka_unit_test(test_excluded_content_is_no_text),
		cmocka_unit_test(test_character_references_decoded_and_mapped),
		cmocka_unit_test(test_line_breaks_are_spaces_outside_pre),
		cmocka_unit_test(test_malformed_html_gives_text),
		cmocka_unit_test(test_invalid_utf8_is_an_error_with_its_offset),
		cmocka_unit_test(test_deep_nesting_gives_text_or_a_clear_error),
		cmocka_unit_test(test_empty_and_whitespace_pages),
		cmocka_unit_test(test_map_range_edges),
		cmocka_unit_test(test_map_spans_to_each_unit),
		cmocka_unit_test(test_tagger_spans_map_onto_the_page),
		cmocka_unit_test(test_annotate_closes_and_reopens_around_markup),
		cmocka_unit_test(test_annotate_escapes_and_skips_overlaps),
		cmocka_unit_test(test_page_dnipro_ledger),
		cmocka_unit_test(test_page_northern_wire),
		cmocka_unit_test(test_page_baltic_courier),
		cmocka_unit_test(test_page_kryvbas_herald),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
