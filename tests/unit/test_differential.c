/*
 * Differential test of the tagger: for thousands of random small gazetteers
 * and random texts (generated here from a fixed seed), the trie tagger's
 * spans, entries and alternatives, under both overlap modes and random type
 * filters, must equal those of a reference matcher written from SPEC §3 and
 * nothing else: it cuts the text into tokens and gaps with its own simple
 * loop, then tries every surface form of every entry at every token
 * position, comparing folded tokens, the significant characters of each
 * gap, and the punctuation before and after the name.  Folding a single
 * code point (gz_fold_cp) and its class (gz_fold_class) are the only things
 * it takes from the engine; they have their own tests in test_fold.c.
 *
 * The words come in families of spellings that must match each other
 * (Zürich, ZURICH, Zu + combining diaeresis + rich; Straße, STRASSE), with
 * the separators SPEC §3.2 names: soft (spaces, dashes, apostrophes, a
 * single line break), significant (periods, commas, ampersands), blank
 * lines, and punctuation that begins or ends a name (U.S., (UN), Yahoo!).
 *
 * Where SPEC §3.2 leaves room, the reference reads it as follows: the
 * punctuation that begins (ends) a name must be the punctuation nearest
 * before (after) the text's tokens, soft characters aside as in a gap, its
 * folded form ending (starting) with the name's, the span starting (ending)
 * at its first (last) character; a blank line is two line breaks (CR LF
 * counting as one) with nothing but spaces between them, or a paragraph
 * separator; under
 * `longest` the spans are taken greedily from the `all` spans sorted by
 * start, longest first, skipping any that starts before the last one taken
 * ends.
 *
 * Every SNAPSHOT_EVERY-th gazetteer is also written as a snapshot and
 * mapped back (issue 15): the mapped set must give the same answers as the
 * one built from YAML, every one of them.
 *
 * On a mismatch the test prints the gazetteer, the text (as C strings) and
 * both results.  DIFF_CASES=N in the environment changes the number of
 * gazetteers (default 2500, each tagged against 8 texts, 4 ways), DIFF_SHOW=N
 * the number of mismatches printed (default 5), DIFF_SEED=N another seed.
 */
#include "unit_helpers.h"

#include "fold.h"
#include "snapshot.h"

#include <unistd.h>

#define SNAPSHOT_EVERY 5

/* ------------------------------------------------------------ random */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

#define PICK(arr) ((arr)[rnd(sizeof(arr) / sizeof((arr)[0]))])

/* ----------------------------------------------------- the vocabulary */

/* Each family: spellings of one word that fold to the same tokens when
 * case is ignored (and some of them also when it is not). */
static const char *const FAMILIES[][6] = {
	{ "Kyiv", "kyiv", "KYIV", "Ky\xc2\xadiv", "KyIv", NULL },            /* soft hyphen inside */
	{ "Azov", "azov", "AZOV", "Azov", NULL },
	{ "Sea", "sea", "SEA", NULL },
	{ "of", "Of", "OF", NULL },
	{ "Z\xc3\xbcrich", "zurich", "ZURICH", "Zu\xcc\x88rich", "Z\xc3\x9cRICH", NULL },
	{ "\xc5\x81\xc3\xb3""d\xc5\xba", "Lodz", "lodz", "LO\xcc\x81""DZ", NULL },   /* Łódź */
	{ "Stra\xc3\x9f""e", "STRASSE", "strasse", "Strasse", NULL },            /* Straße */
	{ "S\xc3\xa3o", "Sao", "SAO", "sa\xcc\x83o", NULL },                    /* São */
	{ "O", "o", NULL },
	{ "Brien", "brien", "BRIEN", NULL },
	{ "U", "u", NULL },
	{ "S", "s", NULL },
	{ "N", "n", NULL },
	{ "\xe5\x8c\x97", NULL },                                            /* 北 */
	{ "\xe4\xba\xac", NULL },                                            /* 京 */
	{ "\xd0\x9a\xd0\xb8\xd1\x97\xd0\xb2", "\xd0\xba\xd0\xb8\xd1\x97\xd0\xb2", "\xd0\x9a\xd0\x98\xd0\x87\xd0\x92", NULL }, /* Київ */
	{ "\xc3\x86sir", "AEsir", "aesir", "\xc3\xa6sir", NULL },                /* Æsir */
	{ "\xc4\xb0stanbul", "Istanbul", "istanbul", "\xc4\xb1stanbul", NULL },   /* İstanbul, ıstanbul */
	{ "2022", NULL },
	{ "\xef\xac\x81nland", "finland", "FINLAND", NULL },                     /* ﬁnland */
};
#define NFAM (sizeof FAMILIES / sizeof FAMILIES[0])

static const char *variant(size_t fam)
{
	size_t n = 0;
	while (n < 6 && FAMILIES[fam][n])
		n++;
	return FAMILIES[fam][rnd((uint32_t)n)];
}

/* Between the tokens of a name. */
static const char *const NAME_GAPS[] = {
	" ", " ", " ", "-", "'", "\xe2\x80\x99", ".", ". ", " & ", ", ", "", "...", " / ",
};
/* Punctuation that begins or ends a name. */
static const char *const LEADS[] = { "(", "#", ".", "\xe2\x80\x9c" };   /* “ */
static const char *const TRAILS[] = { ".", "!", ")", "++", "\xe2\x80\x9d" }; /* ” */

/* Between the words of a text. */
static const char *const TEXT_GAPS[] = {
	" ", " ", " ", " ", "  ", "\t", "-", "\xe2\x80\x93", "'", "\xe2\x80\x99", "`",
	".", ". ", ", ", " & ", "&", "\n", "\r\n", "\n\n", "\n \n", "\r\n\r\n", " - ",
	"!", "(", ")", " (", ") ", "#", "++", "\xe2\x80\xa6", "; ", "\xe2\x80\x9c", "\xe2\x80\x9d",
	"", "\n-\n", "\xc2\xa0",
	"\xe2\x80\xa8", "\xe2\x80\xa9", "\r", "\r\r", "\x0b", "\xc2\x85", /* LS, PS, CR, VT, NEL */
	"\xef\xbc\x8e", "\xef\xbc\x86", "/", " / ", "\xe2\x80\x8b",             /* fullwidth . &, ZWSP */
	" (\n", "(\r\n", ".\r\n", ". \n", "!\n\n", "(\n-\n", "\n)", "\xe2\x80\x9c\xe2\x80\x8b", /* edge punctuation, then soft */
};

/* No "person": the reference models SPEC §3, and a person's name parts
 * (§8.5) are tagged beyond it (tested in test_tagger.c). */
static const char *const TYPES[] = { "human", "place", "org" };

/* --------------------------------------------------- the gazetteers */

#define MAX_ENTRIES 8
#define MAX_FORMS 3

struct form {
	char text[128];
	int cs;
};

struct entry {
	char id[24];
	const char *type;
	int priority;
	struct form forms[MAX_FORMS]; /* [0] is the name */
	size_t nforms;
	int file;
};

struct gaz {
	struct entry e[MAX_ENTRIES];
	size_t n;
	size_t nfiles;
	int file_cs[2];
	const char *file_type[2];
	size_t fams[6];  /* this gazetteer's few word families */
	size_t nfams;
};

static void make_form(struct gaz *g, char *out, size_t size)
{
	size_t ntok = 1 + rnd(3), k = 0;
	out[0] = 0;
	if (!rnd(8))
		k += (size_t)snprintf(out + k, size - k, "%s", PICK(LEADS));
	for (size_t t = 0; t < ntok; t++) {
		if (t)
			k += (size_t)snprintf(out + k, size - k, "%s", PICK(NAME_GAPS));
		k += (size_t)snprintf(out + k, size - k, "%s", variant(g->fams[rnd((uint32_t)g->nfams)]));
	}
	if (!rnd(8))
		snprintf(out + k, size - k, "%s", PICK(TRAILS));
}

static void make_gaz(struct gaz *g)
{
	memset(g, 0, sizeof *g);
	g->nfams = 2 + rnd(4);
	for (size_t i = 0; i < g->nfams; i++)
		g->fams[i] = rnd(NFAM);
	g->nfiles = 1 + rnd(2);
	for (size_t f = 0; f < g->nfiles; f++) {
		g->file_cs[f] = !rnd(6);
		g->file_type[f] = PICK(TYPES);
	}
	g->n = 1 + rnd(MAX_ENTRIES);
	for (size_t i = 0; i < g->n; i++) {
		struct entry *e = &g->e[i];
		snprintf(e->id, sizeof e->id, "e%zu", i);
		/* entries of file 0 first: ids follow the load order */
		e->file = g->nfiles == 2 && i >= g->n / 2;
		e->type = rnd(3) ? NULL : PICK(TYPES);
		e->priority = rnd(3) ? 0 : (int)rnd(3) - 1;
		e->nforms = 1 + rnd(MAX_FORMS);
		int entry_cs = rnd(5) ? -1 : (int)rnd(2);
		for (size_t f = 0; f < e->nforms; f++) {
			make_form(g, e->forms[f].text, sizeof e->forms[f].text);
			int cs = entry_cs >= 0 ? entry_cs : g->file_cs[e->file];
			e->forms[f].cs = f && !rnd(5) ? !cs : cs;
		}
		e->forms[0].cs = entry_cs >= 0 ? entry_cs : g->file_cs[e->file];
	}
}

static const char *entry_type(const struct gaz *g, const struct entry *e)
{
	return e->type ? e->type : g->file_type[e->file];
}

static size_t yaml_str(char *out, size_t size, const char *s)
{
	size_t k = (size_t)snprintf(out, size, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			k += (size_t)snprintf(out + k, size - k, "\\%c", *s);
		else if (*s == '\n')
			k += (size_t)snprintf(out + k, size - k, "\\n");
		else if (*s == '\r')
			k += (size_t)snprintf(out + k, size - k, "\\r");
		else
			k += (size_t)snprintf(out + k, size - k, "%c", *s);
	}
	return k + (size_t)snprintf(out + k, size - k, "\"");
}

static void gaz_yaml(const struct gaz *g, size_t file, char *out, size_t size)
{
	size_t k = (size_t)snprintf(out, size, "type: %s\ncase: %s\nentries:\n", g->file_type[file],
				    g->file_cs[file] ? "sensitive" : "insensitive");
	for (size_t i = 0; i < g->n; i++) {
		const struct entry *e = &g->e[i];
		if ((size_t)e->file != file)
			continue;
		k += (size_t)snprintf(out + k, size - k, "  - id: %s\n    name: ", e->id);
		k += yaml_str(out + k, size - k, e->forms[0].text);
		k += (size_t)snprintf(out + k, size - k, "\n    case: %s\n",
				      e->forms[0].cs ? "sensitive" : "insensitive");
		if (e->type)
			k += (size_t)snprintf(out + k, size - k, "    type: %s\n", e->type);
		if (e->priority)
			k += (size_t)snprintf(out + k, size - k, "    priority: %d\n", e->priority);
		if (e->nforms > 1) {
			k += (size_t)snprintf(out + k, size - k, "    aliases:\n");
			for (size_t f = 1; f < e->nforms; f++) {
				k += (size_t)snprintf(out + k, size - k, "      - {text: ");
				k += yaml_str(out + k, size - k, e->forms[f].text);
				k += (size_t)snprintf(out + k, size - k, ", case: %s}\n",
						      e->forms[f].cs ? "sensitive" : "insensitive");
			}
		}
	}
}

static void make_text(const struct gaz *g, char *out, size_t size)
{
	size_t nwords = 1 + rnd(24), k = 0;
	out[0] = 0;
	for (size_t w = 0; w < nwords && k + 64 < size; w++) {
		if (w || !rnd(3))
			k += (size_t)snprintf(out + k, size - k, "%s", PICK(TEXT_GAPS));
		size_t fam = rnd(6) ? g->fams[rnd((uint32_t)g->nfams)] : rnd(NFAM);
		k += (size_t)snprintf(out + k, size - k, "%s", variant(fam));
	}
	if (!rnd(3) && k + 8 < size)
		snprintf(out + k, size - k, "%s", PICK(TEXT_GAPS));
}

/* ------------------------------------------- the reference matcher */

#define RTOK_MAX 1024

struct rtok {
	size_t bs, be;       /* bytes of the token */
	char fold[RTOK_MAX]; /* case-folded */
	char cased[RTOK_MAX]; /* folded, case kept */
	size_t flen, clen;
	char gap[256];       /* significant characters before it, folded */
	size_t glen;
	int blank;           /* a blank line before it */
};

struct rtext {
	struct rtok t[128];
	size_t n;
	char tail[256];      /* significant characters after the last token */
	size_t tlen;
};

static uint32_t decode(const char *s, size_t len, size_t i, size_t *n)
{
	uint32_t cp;
	*n = gz_utf8_decode((const unsigned char *)s + i, len - i, &cp);
	return cp;
}

/* Tokens and gaps by SPEC §3.1-3.2: a token is a run of letters, digits
 * and the marks after them; a character of a script without spaces is a
 * token by itself; invisible format characters are skipped; whatever else
 * separates tokens, and only punctuation and symbols (class OTHER) count in
 * a gap.  A blank line is a line break followed, after nothing but spaces,
 * by another (CR LF being one). */
static void ref_tokenize(const char *s, size_t len, struct rtext *r)
{
	size_t i = 0;
	int in_tok = 0, solo = 0;
	int breaks = 0;   /* line breaks since the last thing that was not a space */
	char gap[256];
	size_t glen = 0;
	int blank = 0;
	r->n = 0;
	while (i < len) {
		size_t n;
		uint32_t cp = decode(s, len, i, &n);
		enum gz_class c = gz_fold_class(cp);
		int starts = c == GZ_C_SOLO || (c == GZ_C_WORD && !(in_tok && !solo));
		if (c == GZ_C_IGNORE || (in_tok && c == GZ_C_MARK) || (in_tok && !solo && c == GZ_C_WORD)) {
			/* continues the token (or is invisible in a gap) */
			if (in_tok) {
				struct rtok *t = &r->t[r->n - 1];
				assert_true(t->flen + GZ_FOLD_MAX <= RTOK_MAX && t->clen + GZ_FOLD_MAX <= RTOK_MAX);
				t->flen += gz_fold_cp(cp, 1, t->fold + t->flen);
				t->clen += gz_fold_cp(cp, 0, t->cased + t->clen);
				t->be = i + n;
			}
		} else if (starts) {
			assert_true(r->n < 128);
			struct rtok *t = &r->t[r->n++];
			memset(t, 0, sizeof *t);
			t->bs = i;
			t->be = i + n;
			t->flen = gz_fold_cp(cp, 1, t->fold);
			t->clen = gz_fold_cp(cp, 0, t->cased);
			memcpy(t->gap, gap, glen);
			t->glen = glen;
			t->blank = blank;
			in_tok = 1;
			solo = c == GZ_C_SOLO;
			glen = 0;
			blank = 0;
			breaks = 0;
		} else {
			in_tok = 0;
			if (c == GZ_C_NEWLINE) {
				int crlf = cp == '\r' && i + 1 < len && s[i + 1] == '\n';
				if (!crlf && ++breaks >= 2)
					blank = 1;
				if (cp == 0x2029)
					blank = 1;
			} else if (c != GZ_C_SPACE && c != GZ_C_MARK) {
				breaks = 0;
			}
			if (c == GZ_C_OTHER) {
				assert_true(glen + GZ_FOLD_MAX <= sizeof gap);
				glen += gz_fold_cp(cp, 1, gap + glen);
			}
		}
		i += n;
	}
	memcpy(r->tail, gap, glen);
	r->tlen = glen;
}

/* A surface form compiled the same way: its tokens, the gaps between
 * them, and its lead (the significant characters before its first token,
 * r->t[0].gap) and trail (r->tail). */
static void ref_compile(const char *form, struct rtext *r)
{
	ref_tokenize(form, strlen(form), r);
}

/* Edge punctuation "belongs to [the name] like a gap" (SPEC §3.2): between
 * it and the tokens, and inside it, soft characters may stand (spaces,
 * dashes, apostrophes, a line break, invisible characters, stray marks),
 * but not a blank line.  skip_soft counts line breaks as the gap rule does:
 * CR LF is one, and anything but a space resets the count. */
static int soft_at(uint32_t cp, int *breaks, int crlf)
{
	enum gz_class c = gz_fold_class(cp);
	if (c == GZ_C_SPACE || c == GZ_C_IGNORE || c == GZ_C_MARK)
		return 1;
	if (c == GZ_C_SOFT) {
		*breaks = 0;
		return 1;
	}
	if (c == GZ_C_NEWLINE) {
		if (!crlf && ++*breaks >= 2)
			return -1;
		return cp == 0x2029 ? -1 : 1;
	}
	return 0;
}

/* The text before byte `at` must end with lead, soft characters aside;
 * returns where the span starts (the lead's first character), or -1. */
static long lead_start(const char *s, size_t at, const char *lead, size_t llen)
{
	char buf[512];
	size_t have = 0, pos = at;
	int breaks = 0;
	while (have < llen) {
		if (pos == 0)
			return -1;
		size_t b = pos - 1;
		while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
			b--;
		size_t n;
		uint32_t cp = decode(s, pos, b, &n);
		/* walking backwards, the \n of a CR LF is met first */
		int crlf = cp == '\n' && b > 0 && s[b - 1] == '\r';
		int soft = soft_at(cp, &breaks, crlf);
		if (soft < 0)
			return -1;
		if (soft) {
			pos = b;
			continue;
		}
		if (gz_fold_class(cp) != GZ_C_OTHER)
			return -1;
		char f[GZ_FOLD_MAX];
		size_t k = gz_fold_cp(cp, 1, f);
		if (have + k > sizeof buf)
			return -1;
		memmove(buf + k, buf, have);
		memcpy(buf, f, k);
		have += k;
		breaks = 0;
		pos = b;
	}
	return have == llen && memcmp(buf, lead, llen) == 0 ? (long)pos : -1;
}

/* The text from byte `at` must start with trail, soft characters aside;
 * returns where the span ends (after the trail's last character), or -1. */
static long trail_end(const char *s, size_t len, size_t at, const char *trail, size_t tlen)
{
	char buf[512];
	size_t have = 0, pos = at;
	int breaks = 0;
	while (have < tlen) {
		if (pos >= len)
			return -1;
		size_t n;
		uint32_t cp = decode(s, len, pos, &n);
		int crlf = cp == '\r' && pos + 1 < len && s[pos + 1] == '\n';
		int soft = soft_at(cp, &breaks, crlf);
		if (soft < 0)
			return -1;
		if (soft) {
			pos += n;
			continue;
		}
		if (gz_fold_class(cp) != GZ_C_OTHER || have + GZ_FOLD_MAX > sizeof buf)
			return -1;
		have += gz_fold_cp(cp, 1, buf + have);
		breaks = 0;
		pos += n;
	}
	return have == tlen && memcmp(buf, trail, tlen) == 0 ? (long)pos : -1;
}

struct rmatch {
	size_t bs, be;
	const struct entry *e;
};

/* Every (span, entry) of every form at every token. */
static size_t ref_matches(const struct gaz *g, const struct rtext *forms, const char *text,
			  size_t len, const struct rtext *tx, const char *types,
			  struct rmatch *out, size_t cap)
{
	size_t n = 0;
	for (size_t ei = 0; ei < g->n; ei++) {
		const struct entry *e = &g->e[ei];
		if (types && !strstr(types, entry_type(g, e)))
			continue;
		for (size_t f = 0; f < e->nforms; f++) {
			const struct rtext *nm = &forms[ei * MAX_FORMS + f];
			int cs = e->forms[f].cs;
			for (size_t i = 0; i + nm->n <= tx->n; i++) {
				int ok = 1;
				for (size_t k = 0; k < nm->n && ok; k++) {
					const struct rtok *a = &tx->t[i + k], *b = &nm->t[k];
					ok = a->flen == b->flen && !memcmp(a->fold, b->fold, a->flen);
					if (ok && cs)
						ok = a->clen == b->clen && !memcmp(a->cased, b->cased, a->clen);
					if (ok && k)
						ok = !a->blank && a->glen == b->glen && !memcmp(a->gap, b->gap, a->glen);
				}
				if (!ok)
					continue;
				long bs = (long)tx->t[i].bs, be = (long)tx->t[i + nm->n - 1].be;
				if (nm->t[0].glen)
					bs = lead_start(text, (size_t)bs, nm->t[0].gap, nm->t[0].glen);
				if (nm->tlen)
					be = trail_end(text, len, (size_t)be, nm->tail, nm->tlen);
				if (bs < 0 || be < 0)
					continue;
				assert_true(n < cap);
				out[n++] = (struct rmatch){ (size_t)bs, (size_t)be, e };
			}
		}
	}
	return n;
}

static int better(const struct entry *a, const struct entry *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a < b; /* load order: file 0's entries come first in e[] */
}

static int cmp_match(const void *x, const void *y)
{
	const struct rmatch *a = x, *b = y;
	if (a->bs != b->bs)
		return a->bs < b->bs ? -1 : 1;
	if (a->be != b->be)
		return a->be > b->be ? -1 : 1;
	if (a->e == b->e)
		return 0;
	return better(a->e, b->e) ? -1 : 1;
}

/* Renders the reference result like render_spans, in bytes. */
static void ref_render(struct rmatch *m, size_t n, int longest, const char *text, char *out,
		       size_t size)
{
	qsort(m, n, sizeof *m, cmp_match);
	size_t k = 0, spans = 0, end = 0;
	out[0] = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && m[j].bs == m[i].bs && m[j].be == m[i].be)
			j++;
		if (!longest || spans == 0 || m[i].bs >= end) {
			k += (size_t)snprintf(out + k, size - k, "%s%zu-%zu [%.*s] %s", spans ? "; " : "",
					      m[i].bs, m[i].be, (int)(m[i].be - m[i].bs), text + m[i].bs,
					      m[i].e->id);
			size_t na = 0;
			const void *prev = m[i].e;
			for (size_t a = i + 1; a < j && k < size; a++) {
				if ((const void *)m[a].e == prev)
					continue;
				prev = m[a].e;
				k += (size_t)snprintf(out + k, size - k, "%s%s", na++ ? "," : " alt=",
						      m[a].e->id);
			}
			spans++;
			end = m[i].be;
		}
		i = j;
	}
}

/* ------------------------------------------------------------ the test */

static void print_c(const char *label, const char *s)
{
	fprintf(stderr, "%s \"", label);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			fprintf(stderr, "\\n");
		else if (*p == '\r')
			fprintf(stderr, "\\r");
		else if (*p == '\t')
			fprintf(stderr, "\\t");
		else if (*p == '"' || *p == '\\')
			fprintf(stderr, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x80)
			fprintf(stderr, "\\x%02x\"\"", *p);
		else
			fputc(*p, stderr);
	}
	fprintf(stderr, "\"\n");
}

static void test_trie_tagger_equals_reference(void **state)
{
	(void)state;
	const char *env = getenv("DIFF_CASES");
	long cases = env ? atol(env) : 2500;
	const char *seed_env = getenv("DIFF_SEED");
	if (seed_env && strtoull(seed_env, NULL, 0))
		rng = strtoull(seed_env, NULL, 0);
	const char *show_env = getenv("DIFF_SHOW");
	long show = show_env ? atol(show_env) : 5;
	static char yaml[2][16384], text[1024], got[8192], want[8192], types[64];
	static struct rtext forms[MAX_ENTRIES * MAX_FORMS], tx;
	static struct rmatch m[4096];
	struct gz_tagger *t = gz_tagger_new();
	assert_non_null(t);
	long compared = 0, failures = 0, spans = 0, mapped_compared = 0;
	/* the snapshots go to memory where there is a tmpfs: each write
	 * fsyncs */
	char snap_path[64];
	snprintf(snap_path, sizeof snap_path, "%s/gz-differential-%d.gzs",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
	static char got_mapped[8192];
	for (long c = 0; c < cases; c++) {
		struct gaz g;
		make_gaz(&g);
		const char *yamls[2];
		for (size_t f = 0; f < g.nfiles; f++) {
			gaz_yaml(&g, f, yaml[f], sizeof yaml[f]);
			yamls[f] = yaml[f];
		}
		struct gz_set *set = load_yamls(yamls, g.nfiles);
		struct gz_set *mapped = NULL;
		if (c % SNAPSHOT_EVERY == 0) {
			struct gz_error err = { 0 };
			assert_int_equal(gz_snapshot_write(set, snap_path, NULL, &err), 0);
			assert_int_equal(gz_snapshot_load(snap_path, NULL, NULL, &mapped, NULL, &err), 0);
			unlink(snap_path);
		}
		for (size_t i = 0; i < g.n; i++)
			for (size_t f = 0; f < g.e[i].nforms; f++)
				ref_compile(g.e[i].forms[f].text, &forms[i * MAX_FORMS + f]);
		for (int k = 0; k < 8; k++) {
			make_text(&g, text, sizeof text);
			size_t len = strlen(text);
			ref_tokenize(text, len, &tx);
			for (int mode = 0; mode < 4; mode++) {
				int longest = mode & 1;
				const char *filter = NULL;
				if (mode & 2) {
					/* one or two of the types loaded */
					const struct entry *a = &g.e[rnd((uint32_t)g.n)];
					const struct entry *b = &g.e[rnd((uint32_t)g.n)];
					snprintf(types, sizeof types, "%s,%s", entry_type(&g, a), entry_type(&g, b));
					filter = types;
				}
				struct gz_tag_options o;
				struct gz_error err = {0};
				gz_tag_options_init(&o);
				o.overlaps = longest ? GZ_OVERLAPS_LONGEST : GZ_OVERLAPS_ALL;
				o.offsets = GZ_OFFSETS_BYTE;
				o.types = filter;
				assert_int_equal(gz_tagger_run(t, set, text, len, &o, &err), 0);
				render_spans(t, text, got, sizeof got);
				if (mapped) {
					assert_int_equal(gz_tagger_run(t, mapped, text, len, &o, &err), 0);
					render_spans(t, text, got_mapped, sizeof got_mapped);
					assert_string_equal(got_mapped, got);
					mapped_compared++;
				}
				size_t n = ref_matches(&g, forms, text, len, &tx, filter, m, 4096);
				ref_render(m, n, longest, text, want, sizeof want);
				spans += gz_tagger_span_count(t);
				compared++;
				if (strcmp(got, want) != 0) {
					if (failures++ < show) {
						fprintf(stderr, "\nmismatch in case %ld.%d (%s, types %s)\n", c, k,
							longest ? "longest" : "all", filter ? filter : "all");
						for (size_t f = 0; f < g.nfiles; f++)
							print_c("  gazetteer:", yaml[f]);
						print_c("  text:", text);
						fprintf(stderr, "  tagger:    %s\n  reference: %s\n", got, want);
					}
				}
			}
		}
		gz_set_unref(set);
		gz_set_unref(mapped);
	}
	gz_tagger_free(t);
	fprintf(stderr, "differential: %ld comparisons, %ld spans, %ld mismatches; %ld answers "
			"of mapped snapshots equal\n",
		compared, spans, failures, mapped_compared);
	assert_int_equal(failures, 0);
}

int main(void)
{
	gz_fold_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trie_tagger_equals_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
