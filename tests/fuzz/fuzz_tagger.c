/*
 * libFuzzer target: any bytes as text, tagged against one fixed gazetteer
 * (GAZETTEER below, built once) with every combination of overlaps, offsets
 * and a handful of type filters, checking what must hold whatever the text:
 *
 *  - invalid UTF-8 is refused with the offset of the first bad byte, and
 *    valid text is never refused;
 *  - every span is non-empty, within the text, on UTF-8 boundaries, and on
 *    whole tokens (no word character or joining mark just outside a word
 *    character at either end);
 *  - start/end in the unit asked for equal the byte offsets converted here,
 *    and the three units give the same spans;
 *  - spans are sorted by start ascending, then end descending, no span
 *    appears twice, and under `longest` they do not overlap;
 *  - each span's folded tokens equal those of one surface form of its entry
 *    and of each alternative;
 *  - the chosen entry is the best candidate (priority, then load order)
 *    unless a qualifier or support chose it (SPEC §8.4), the alternatives
 *    follow best first, never repeat and never contain it;
 *  - a name part (§8.5) is a person's last word, tagged after the full name;
 *  - every candidate has a type the filter allows; the spans under a filter
 *    are exactly the unfiltered `all` spans with the other types removed
 *    (the same candidates: context may choose another among them);
 *  - `longest` is the leftmost-longest selection over the `all` spans;
 *  - the JSON rendering carries the same offsets and ids, and `text` equal
 *    to the original substring; the direct writer of POST /tag
 *    (gz_json_write_tag_response) writes valid JSON equal to the jansson tree.
 *
 * A broken invariant aborts with a message: libFuzzer saves the input.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "fuzz_common.h"
#include "json.h"
#include "set.h"
#include "tagger.h"

/* Names with punctuation before, inside and after their tokens,
 * case-sensitive aliases, Han, kana, Cyrillic, Greek, ligatures and stroke
 * letters, nested names and ambiguous ones (equal and different
 * priorities). */
static const char GAZETTEER[] =
	"type: place\n"
	"entries:\n"
	"  - id: kyiv\n"
	"    name: Kyiv\n"
	"    aliases: [Kiev, Київ, Kyjiw]\n"
	"    attrs: {country: UA, lat: 50.45, population: 2952301, capital: true, note: null,\n"
	"            quote: \"\\\"Kyiv\\\" \\\\ \\u2028 \\t \\u0001\", nested: {a: [1, 2.5e-3, x]}}\n"
	"  - {id: kyiv-oblast, name: Kyiv Oblast, aliases: [Київська область]}\n"
	"  - {id: sea-of-azov, name: Sea of Azov}\n"
	"  - {id: azov-town, name: Azov, priority: 1}\n"
	"  - {id: azovstal, name: Azovstal}\n"
	"  - {id: saint-petersburg, name: Saint Petersburg,\n"
	"     aliases: [St. Petersburg, Санкт-Петербург, Sankt-Peterburg]}\n"
	"  - {id: beijing, name: 北京, aliases: [北京市, Beijing]}\n"
	"  - {id: tokyo, name: 東京, aliases: [とうきょう, Tokyo, トウキョウ]}\n"
	"  - id: united-states\n"
	"    name: United States\n"
	"    aliases: [U.S., U.S.A., {text: US, case: sensitive}, United States of America]\n"
	"  - {id: lodz, name: Łódź}\n"
	"  - {id: cote-divoire, name: Côte d'Ivoire}\n"
	"  - {id: zurich, name: Zürich}\n"
	"  - {id: athens, name: Αθήνα, aliases: [ΑΘΗΝΑ]}\n"
	"  - {id: grosz, name: Groß-Gerau}\n"
	"  - {id: faroe, name: Færøerne}\n"
	"  - {id: georgia-country, name: Georgia}\n"
	"  - {id: georgia-state, name: Georgia, type: region}\n"
	"  - {id: washington-dc, name: Washington, aliases: [Washington D.C., \"Washington, D.C.\"]}\n"
	"  - {id: sao-paulo, name: São Paulo}\n"
	"  - {id: finland, name: Finland, aliases: [ﬁnland]}\n"
	"  - id: volodymyr-zelensky\n"
	"    type: person\n"
	"    name: Volodymyr Zelensky\n"
	"    aliases: [Zelensky, Zelenskyy, {text: ZELENSKY, case: sensitive}, Зеленський]\n"
	"    priority: 10\n"
	"  - {id: george-washington, type: person, name: George Washington, aliases: [Washington]}\n"
	"  - {id: jean-luc, type: person, name: Jean-Luc Mélenchon}\n"
	"  - {id: conor-obrien, type: person, name: Conor O'Brien}\n"
	"  - {id: putin, type: person, name: Vladimir Putin, aliases: [Putin, Путин]}\n"
	"  - {id: kim, type: person, name: 金正恩, case: sensitive}\n"
	"  - {id: azov-regiment, type: unit, name: Azov Regiment, aliases: [Azov], priority: 5}\n"
	"  - {id: third-brigade, type: unit, name: 3rd Assault Brigade, aliases: [3 ОШБр]}\n"
	"  - {id: washington-post, type: org, name: The Washington Post, aliases: [Washington Post]}\n"
	"  - {id: yahoo, type: org, name: Yahoo!}\n"
	"  - {id: dotnet, type: org, name: .NET, case: sensitive}\n"
	"  - {id: att, type: org, name: AT&T}\n"
	"  - {id: cpp, type: org, name: C++}\n"
	"  - {id: metoo, type: org, name: \"#MeToo\"}\n"
	"  - {id: nato, type: org, name: NATO, case: sensitive,\n"
	"     aliases: [{text: North Atlantic Treaty Organization, case: insensitive}]}\n"
	"  - {id: kyiv-independent, type: org, name: Kyiv Independent, aliases: [Kyiv], priority: -1}\n"
	"  - {id: un, type: org, name: (UN), aliases: [U.N., {text: UN, case: sensitive}]}\n"
	/* SPEC §8: a proper name, one that needs evidence, a qualifier */
	"  - {id: paris, name: Paris, case: proper, priority: 1, attrs: {country: FR}}\n"
	"  - {id: paris-tx, name: Paris, evidence: required, attrs: {country: US, admin1: US.TX}}\n"
	"  - {id: texas, name: Texas, aliases: [Tex.], attrs: {country: US, admin1: US.TX}}\n";

/* The filters tried on every input; each is checked against the
 * unfiltered result. */
static const char *const FILTERS[] = { NULL, "person", "place,unit", " org , region ,person" };
#define NFILTERS (sizeof FILTERS / sizeof FILTERS[0])

static struct gz_set *set;
static struct gz_tagger *tagger;

/* GZ_FUZZ_IGNORE=longest-overlap keeps fuzzing past a known bug (overlapping
 * spans under `longest`) while it is being fixed: such runs skip the checks
 * that bug breaks instead of aborting.  Unset, every check aborts. */
static int ignore_longest_overlap;
static int overlapped; /* the current longest run broke the rule */

/* A copy of one run's spans, for comparisons across runs. */
struct rec {
	int part;          /* a name part (SPEC §8.5) */
	size_t bs, be;
	const struct gz_entry *e;
	const struct gz_entry *alts[16];
	size_t nalts;
};

struct run {
	struct rec *r;
	size_t n;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_tagging("fuzz_tagger", GAZETTEER, sizeof GAZETTEER - 1, &set, &tagger);
	const char *ign = getenv("GZ_FUZZ_IGNORE");
	ignore_longest_overlap = ign && strstr(ign, "longest-overlap");
	return 0;
}

/* ------------------------------------------------------------- helpers */

/* The first invalid byte of s, or len; written apart from fold.c. */
static size_t first_invalid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 2, cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 3, cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 4, cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i < n)
			return i;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n;
	}
	return len;
}

/* The code point that ends just before byte b (b > 0), and its start. */
static uint32_t cp_before(const unsigned char *s, size_t b, size_t *start)
{
	size_t k = b - 1;
	while (k > 0 && (s[k] & 0xC0) == 0x80)
		k--;
	uint32_t cp;
	gz_utf8_decode(s + k, b - k, &cp);
	*start = k;
	return cp;
}

/* A span must not cut a token: when its first character is a word
 * character, what precedes it (invisible format characters skipped) is not
 * a word character nor a mark joined to one; likewise at the end. */
static void check_whole_tokens(const unsigned char *s, size_t len, size_t bs, size_t be)
{
	uint32_t first, last;
	size_t lstart;
	gz_utf8_decode(s + bs, len - bs, &first);
	last = cp_before(s, be, &lstart);
	enum gz_class fc = gz_fold_class(first), lc = gz_fold_class(last);
	/* trailing marks and invisible characters: what matters is the
	 * character they follow (after Han, a word may follow directly) */
	while ((lc == GZ_C_MARK || lc == GZ_C_IGNORE) && lstart > bs) {
		last = cp_before(s, lstart, &lstart);
		enum gz_class c = gz_fold_class(last);
		if (c == GZ_C_WORD || c == GZ_C_SOLO)
			lc = c;
		else if (c != GZ_C_MARK && c != GZ_C_IGNORE)
			break;
	}
	if (fc == GZ_C_WORD) {
		size_t b = bs;
		while (b > 0) {
			size_t k;
			uint32_t cp = cp_before(s, b, &k);
			enum gz_class c = gz_fold_class(cp);
			if (c == GZ_C_IGNORE || c == GZ_C_MARK) {
				b = k;
				continue;
			}
			check(c != GZ_C_WORD, "span at byte %zu starts inside a word", bs);
			break;
		}
	}
	if (lc == GZ_C_WORD || lc == GZ_C_SOLO || lc == GZ_C_MARK) {
		size_t b = be;
		while (b < len) {
			uint32_t cp;
			size_t n = gz_utf8_decode(s + b, len - b, &cp);
			enum gz_class c = gz_fold_class(cp);
			if (c == GZ_C_IGNORE) {
				b += n;
				continue;
			}
			check(c != GZ_C_MARK, "span ending at byte %zu leaves a mark of its last token out", be);
			check(lc == GZ_C_SOLO || c != GZ_C_WORD, "span ending at byte %zu ends inside a word", be);
			break;
		}
	}
}

static int better(const struct gz_entry *a, const struct gz_entry *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->order < b->order;
}

static int type_allowed(const char *filter, const char *type)
{
	if (!filter)
		return 1;
	size_t tl = strlen(type);
	const char *p = filter;
	for (;;) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, ",");
		size_t m = l;
		while (m && p[m - 1] == ' ')
			m--;
		if (m == tl && memcmp(p, type, tl) == 0)
			return 1;
		if (!p[l])
			return 0;
		p += l + 1;
	}
}

/* Whether the folded tokens of s[0..n) equal those of one of e's forms. */
static int matches_a_form(const struct gz_entry *e, const char *s, size_t n)
{
	static char a[8192], b[8192];
	size_t la = gz_fold_string(s, n, 1, a, sizeof a);
	if (la > sizeof a)
		return 1; /* too long to compare here; not a name */
	for (size_t f = 0; f <= e->alias_count; f++) {
		const char *form = gz_entry_form(e, f);
		size_t lb = gz_fold_string(form, strlen(form), 1, b, sizeof b);
		if (la == lb && memcmp(a, b, la) == 0)
			return 1;
	}
	return 0;
}

/* Whether s[0..n) folds to the last word of one of e's forms. */
static int is_last_word_of_a_form(const struct gz_entry *e, const char *s, size_t n)
{
	static char a[8192], b[8192];
	size_t la = gz_fold_string(s, n, 1, a, sizeof a);
	for (size_t f = 0; f <= e->alias_count && la <= sizeof a; f++) {
		const unsigned char *form = (const unsigned char *)(gz_entry_form(e, f));
		size_t end = strlen((const char *)form), start, k;
		while (end > 0 && gz_fold_class(cp_before(form, end, &k)) != GZ_C_WORD)
			end = k;
		start = end;
		while (start > 0) {
			enum gz_class c = gz_fold_class(cp_before(form, start, &k));
			if (c != GZ_C_WORD && c != GZ_C_MARK && c != GZ_C_IGNORE)
				break;
			start = k;
		}
		size_t lb = gz_fold_string((const char *)form + start, end - start, 1, b, sizeof b);
		if (start > 0 && la == lb && memcmp(a, b, la) == 0)
			return 1;
	}
	return 0;
}

static void record(struct run *out)
{
	size_t n = gz_tagger_span_count(tagger);
	const struct gz_span *sp = gz_tagger_spans(tagger);
	out->r = n ? calloc(n, sizeof(*out->r)) : NULL;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		out->r[i].part = sp[i].why == GZ_WHY_NAME_PART;
		out->r[i].bs = sp[i].byte_start;
		out->r[i].be = sp[i].byte_end;
		out->r[i].e = sp[i].entry;
		check(sp[i].alternative_count <= 16, "%zu alternatives", sp[i].alternative_count);
		out->r[i].nalts = sp[i].alternative_count;
		for (size_t a = 0; a < sp[i].alternative_count; a++)
			out->r[i].alts[a] = sp[i].alternatives[a];
	}
}

static int rec_equal(const struct rec *x, const struct rec *y)
{
	if (x->bs != y->bs || x->be != y->be || x->e != y->e || x->nalts != y->nalts)
		return 0;
	for (size_t a = 0; a < x->nalts; a++)
		if (x->alts[a] != y->alts[a])
			return 0;
	return 1;
}

static void check_same(const struct run *x, const struct run *y, const char *what)
{
	check(x->n == y->n, "%s: %zu spans against %zu", what, x->n, y->n);
	for (size_t i = 0; i < x->n; i++)
		check(rec_equal(&x->r[i], &y->r[i]), "%s: span %zu differs (%zu-%zu %s against %zu-%zu %s)",
		      what, i, x->r[i].bs, x->r[i].be, gz_entry_id(x->r[i].e), y->r[i].bs, y->r[i].be,
		      gz_entry_id(y->r[i].e));
}

static int has_candidate(const struct rec *r, const struct gz_entry *e)
{
	if (r->e == e)
		return 1;
	for (size_t a = 0; a < r->nalts; a++)
		if (r->alts[a] == e)
			return 1;
	return 0;
}

/* The same spans with the same candidates, in whatever order the context
 * of each run ranked them; name parts left out (another run's spans of
 * other types or nested spans may leave a last name free or not). */
static void check_same_candidates(const struct run *x, const struct run *y, const char *what)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < x->n && x->r[i].part)
			i++;
		while (j < y->n && y->r[j].part)
			j++;
		if (i == x->n || j == y->n)
			break;
		const struct rec *a = &x->r[i], *b = &y->r[j];
		check(a->bs == b->bs && a->be == b->be && a->nalts == b->nalts && has_candidate(b, a->e),
		      "%s: span %zu-%zu %s against %zu-%zu %s", what, a->bs, a->be, gz_entry_id(a->e),
		      b->bs, b->be,
		      gz_entry_id(b->e));
		for (size_t k = 0; k < a->nalts; k++)
			check(has_candidate(b, a->alts[k]), "%s: span %zu-%zu: %s only in one", what, a->bs,
			      a->be, gz_entry_id(a->alts[k]));
		i++;
		j++;
	}
	check(i == x->n && j == y->n, "%s: %zu spans against %zu", what, x->n, y->n);
}

/* ---------------------------------------------------- one run's checks */

static void check_json(const unsigned char *s, enum gz_offsets off);

static void check_run(const unsigned char *s, size_t len, enum gz_overlaps ov,
		      enum gz_offsets off, const char *filter, int json)
{
	size_t n = gz_tagger_span_count(tagger);
	const struct gz_span *sp = gz_tagger_spans(tagger);
	for (size_t i = 0; i < n; i++) {
		const struct gz_span *x = &sp[i];
		check(x->byte_start < x->byte_end && x->byte_end <= len,
		      "span %zu: bytes %zu-%zu in a text of %zu", i, x->byte_start, x->byte_end, len);
		check(fuzz_is_boundary(s, len, x->byte_start) && fuzz_is_boundary(s, len, x->byte_end),
		      "span %zu: bytes %zu-%zu not on UTF-8 boundaries", i, x->byte_start, x->byte_end);
		size_t ws = off == GZ_OFFSETS_BYTE ? x->byte_start
						   : fuzz_units(s, x->byte_start, off == GZ_OFFSETS_UTF16);
		size_t we = off == GZ_OFFSETS_BYTE ? x->byte_end
						   : fuzz_units(s, x->byte_end, off == GZ_OFFSETS_UTF16);
		check(x->start == ws && x->end == we, "span %zu: %s offsets %zu-%zu, expected %zu-%zu",
		      i, gz_offsets_name(off), x->start, x->end, ws, we);
		check_whole_tokens(s, len, x->byte_start, x->byte_end);

		/* the candidates */
		check(x->entry != NULL, "span %zu has no entry", i);
		check(type_allowed(filter, gz_entry_type(x->entry)), "span %zu: type %s passed filter '%s'", i,
		      gz_entry_type(x->entry), filter);
		int part = x->why == GZ_WHY_NAME_PART, by_rank = x->why == GZ_WHY_PRIORITY ||
								 x->why == GZ_WHY_ONLY;
		if (part)
			check(!strcmp(gz_entry_type(x->entry), "person") &&
			      is_last_word_of_a_form(x->entry, (const char *)s + x->byte_start,
						     x->byte_end - x->byte_start),
			      "span %zu '%.*s' is no last word of %s", i, (int)(x->byte_end - x->byte_start),
			      s + x->byte_start, gz_entry_id(x->entry));
		else
			check(matches_a_form(x->entry, (const char *)s + x->byte_start,
					     x->byte_end - x->byte_start),
			      "span %zu '%.*s' matches no form of %s", i, (int)(x->byte_end - x->byte_start),
			      s + x->byte_start, gz_entry_id(x->entry));
		for (size_t a = 0; a < x->alternative_count; a++) {
			const struct gz_entry *e = x->alternatives[a];
			check(e != x->entry, "span %zu: alternative %zu is the chosen entry %s", i, a, gz_entry_id(e));
			check(!by_rank || better(x->entry, e), "span %zu: alternative %s beats chosen %s", i,
			      gz_entry_id(e), gz_entry_id(x->entry));
			check(a == 0 || better(x->alternatives[a - 1], e) || !by_rank,
			      "span %zu: alternatives out of order or repeated at %zu (%s)", i, a, gz_entry_id(e));
			for (size_t b = 0; b < a; b++)
				check(x->alternatives[b] != e, "span %zu: alternative %s repeated", i, gz_entry_id(e));
			check(type_allowed(filter, gz_entry_type(e)), "span %zu: alternative type %s passed filter '%s'",
			      i, gz_entry_type(e), filter);
			check(part || matches_a_form(e, (const char *)s + x->byte_start,
						     x->byte_end - x->byte_start),
			      "span %zu: alternative %s has no such form", i, gz_entry_id(e));
		}

		/* the order */
		if (i > 0) {
			const struct gz_span *p = &sp[i - 1];
			check(p->byte_start < x->byte_start ||
			      (p->byte_start == x->byte_start && p->byte_end > x->byte_end),
			      "spans %zu (%zu-%zu) and %zu (%zu-%zu) out of order or repeated", i - 1,
			      p->byte_start, p->byte_end, i, x->byte_start, x->byte_end);
			check(p->start <= x->start, "spans %zu and %zu: unit offsets out of order", i - 1, i);
			if (ov == GZ_OVERLAPS_LONGEST && ignore_longest_overlap &&
			    p->byte_end > x->byte_start)
				overlapped = 1;
			else if (ov == GZ_OVERLAPS_LONGEST)
				check(p->byte_end <= x->byte_start,
				      "overlaps=longest: span %zu (%zu-%zu) overlaps span %zu (%zu-%zu)", i - 1,
				      p->byte_start, p->byte_end, i, x->byte_start, x->byte_end);
		}
	}

	if (json)
		check_json(s, off);
}

/* The JSON renderings of the last run (costly: done for some runs only). */
static void check_json(const unsigned char *s, enum gz_offsets off)
{
	size_t n = gz_tagger_span_count(tagger);
	const struct gz_span *sp = gz_tagger_spans(tagger);
	json_t *arr = gz_json_spans(tagger, (const char *)s);
	check(arr && json_array_size(arr) == n, "JSON has %zu spans, the tagger %zu",
	      arr ? json_array_size(arr) : 0, n);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		json_t *t = json_object_get(o, "text");
		size_t bl = sp[i].byte_end - sp[i].byte_start;
		check(json_is_string(t) && json_string_length(t) == bl &&
		      memcmp(json_string_value(t), s + sp[i].byte_start, bl) == 0,
		      "span %zu: JSON text is not the original substring", i);
		check(json_integer_value(json_object_get(o, "start")) == (json_int_t)sp[i].start &&
		      json_integer_value(json_object_get(o, "end")) == (json_int_t)sp[i].end,
		      "span %zu: JSON offsets differ", i);
		check(strcmp(json_string_value(json_object_get(o, "id")), gz_entry_id(sp[i].entry)) == 0,
		      "span %zu: JSON id differs", i);
		json_t *alts = json_object_get(o, "alternatives");
		check(json_array_size(alts) == sp[i].alternative_count,
		      "span %zu: JSON alternatives differ", i);
	}
	json_decref(arr);

	/* the writer that POST /tag uses: the same JSON as the jansson tree
	 * (json_equal, not byte for byte: attrs reals keep their own spelling,
	 * 1e5 where json_dumps writes 100000.0; see json.h) */
	struct gz_tag_options o;
	gz_tag_options_init(&o);
	o.offsets = off;
	json_t *tree = gz_json_tag_response(tagger, (const char *)s, &o);
	check(tree != NULL, "gz_json_tag_response failed");
	char *dump = json_dumps(tree, GZ_JSON_DUMP_FLAGS);
	struct gz_buf b = { 0 };
	check(gz_json_write_tag_response(tagger, (const char *)s, &o, &b) == 0 && dump,
	      "writing the response failed");
	json_error_t jerr;
	json_t *back = json_loadb(b.data, b.len, 0, &jerr);
	check(back != NULL, "the written response is not JSON (%s at %d): %.*s", jerr.text,
	      jerr.position, (int)b.len, b.data);
	check(json_equal(back, tree), "the written response differs from the tree:\n  %.*s\n  %s",
	      (int)b.len, b.data, dump);
	/* written a piece at a time, as --tag and the streams write it: the
	 * same bytes, whatever the pieces' size */
	struct gz_json_answer ans;
	struct gz_buf p = { 0 }, whole = { 0 };
	size_t limit = 1 + (size_t)s[0] % 300;
	int r;
	gz_json_answer_start(&ans, tagger, (const char *)s, &o);
	while ((r = gz_json_answer_write(&ans, &p, limit)) == 0) {
		check(p.len > 0, "a piece of nothing before the end");
		gz_buf_append(&whole, p.data, p.len);
		p.len = 0;
	}
	check(r == 1, "writing in pieces failed");
	gz_buf_append(&whole, p.data, p.len);
	check(whole.len == b.len && !memcmp(whole.data, b.data, b.len),
	      "the answer in pieces of %zu differs:\n  %.*s\n  %.*s", limit, (int)whole.len,
	      whole.data, (int)b.len, b.data);
	free(p.data);
	free(whole.data);
	json_decref(back);
	json_decref(tree);
	free(dump);
	free(b.data);
}

/* Leftmost-longest over the `all` spans, as SPEC §3.4 states it. */
static void check_longest_from_all(const struct run *all, const struct run *longest)
{
	struct run want = { calloc(all->n ? all->n : 1, sizeof(struct rec)), 0 };
	size_t end = 0;
	for (size_t i = 0; i < all->n; i++) {
		if (all->r[i].part || (want.n && all->r[i].bs < end))
			continue;
		want.r[want.n++] = all->r[i];
		end = all->r[i].be;
	}
	check_same_candidates(&want, longest, "longest against leftmost-longest over all");
	free(want.r);
}

/* The unfiltered `all` spans, restricted to the types of filter. */
static void check_filtered(const struct run *all, const struct run *filtered, const char *filter)
{
	struct run want = { calloc(all->n ? all->n : 1, sizeof(struct rec)), 0 };
	for (size_t i = 0; i < all->n; i++) {
		const struct gz_entry *c[17];
		size_t nc = 0;
		if (all->r[i].part)
			continue;
		if (type_allowed(filter, gz_entry_type(all->r[i].e)))
			c[nc++] = all->r[i].e;
		for (size_t a = 0; a < all->r[i].nalts; a++)
			if (type_allowed(filter, gz_entry_type(all->r[i].alts[a])))
				c[nc++] = all->r[i].alts[a];
		if (!nc)
			continue;
		struct rec *r = &want.r[want.n++];
		r->bs = all->r[i].bs;
		r->be = all->r[i].be;
		r->e = c[0];
		r->nalts = nc - 1;
		memcpy(r->alts, c + 1, (nc - 1) * sizeof(*c));
	}
	check_same_candidates(&want, filtered, filter);
	free(want.r);
}

/* ----------------------------------------------------------- the target */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *s = data;
	struct gz_error err = {0};
	struct gz_tag_options o;
	gz_tag_options_init(&o);

	size_t bad = first_invalid(s, size);
	int r = gz_tagger_run(tagger, set, (const char *)s, size, &o, &err);
	if (bad < size) {
		check(r == GZ_EUTF8 && err.code == GZ_EUTF8 && err.offset == bad,
		      "invalid UTF-8 at byte %zu: got result %d, offset %zu", bad, r, err.offset);
		return 0;
	}
	check(r == 0, "valid text refused: %d %s", r, err.message);

	struct run runs[2][NFILTERS]; /* [overlaps][filter], from the byte run */
	int broken[NFILTERS] = {0};
	for (int ov = 0; ov < 2; ov++)
		for (size_t f = 0; f < NFILTERS; f++)
			for (int off = 2; off >= 0; off--) { /* byte first: the reference */
				o.overlaps = (enum gz_overlaps)ov;
				o.offsets = (enum gz_offsets)off;
				o.types = FILTERS[f];
				r = gz_tagger_run(tagger, set, (const char *)s, size, &o, &err);
				check(r == 0, "run refused: %d %s", r, err.message);
				overlapped = 0;
				/* the JSON does not depend on the filter: checked in
				 * every unit without one, in code points with one */
				check_run(s, size, o.overlaps, o.offsets, o.types,
					  f == 0 || o.offsets == GZ_OFFSETS_CODEPOINT);
				broken[f] |= overlapped;
				struct run this;
				record(&this);
				if (off == GZ_OFFSETS_BYTE) {
					runs[ov][f] = this;
				} else {
					check_same(&runs[ov][f], &this, "offsets units");
					free(this.r);
				}
			}
	for (size_t f = 0; f < NFILTERS; f++) {
		if (!broken[f])
			check_longest_from_all(&runs[GZ_OVERLAPS_ALL][f], &runs[GZ_OVERLAPS_LONGEST][f]);
		if (f)
			check_filtered(&runs[GZ_OVERLAPS_ALL][0], &runs[GZ_OVERLAPS_ALL][f], FILTERS[f]);
	}
	for (int ov = 0; ov < 2; ov++)
		for (size_t f = 0; f < NFILTERS; f++)
			free(runs[ov][f].r);
	return 0;
}
