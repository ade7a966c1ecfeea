/*
 * The fast reader of gazetteer YAML; see yaml_reader.h.
 *
 * libyaml's scanner, parser and events were most of the read of a big
 * importer file, yet such a file uses a sliver of YAML: block mappings with
 * plain keys, block sequences, flow sequences and mappings (broken over
 * lines only after '[', '{' or ','), double-quoted scalars on one line,
 * plain scalars on one line, comments and blank lines.  This reader knows
 * that sliver and nothing else.  It feeds the same tree builder as the
 * libyaml reader (gz_yaml_tree_*), with the events libyaml would give for
 * the same text at the same marks, so the tree, the items handed to
 * on_entry and their order are the same by construction.  Wherever it is
 * not sure what libyaml would do (a tab, a ':' inside a plain scalar, a
 * scalar over two lines, an anchor, a single quote, an escape it does not
 * know, a control or line-break character, a scalar or a nesting over the
 * limits) it gives up, and libyaml reads the whole buffer again: every
 * error is libyaml's, word for word.
 *
 * Giving up must happen before on_entry has seen a single item, since the
 * caller cannot take one back.  So the buffer is read twice: once to check
 * that it is all inside the subset, building nothing, then again to build.
 * The check is a fraction of the build's cost, and both are a fraction of
 * libyaml's.
 *
 * Marks: libyaml counts columns in characters, so a node after non-ASCII
 * text on its line (the second alias of a flow sequence) has its column
 * counted in code points.
 */
#include "yaml_reader.h"

#include <stdlib.h>
#include <string.h>

/* the longest plain key taken: libyaml's simple keys end at 1024 chars */
#define KEY_MAX 256

struct fast {
	struct gz_yaml *y;
	struct gz_yaml_tree *t;   /* NULL in the check pass */
	const char *p, *end;      /* the cursor */
	const char *ls;           /* the start of the cursor's line */
	int line;                 /* of ls, 1-based, in the buffer */
	int ind;                  /* the content line's indent; -1 at the end */
	int depth;
	int flow_min;             /* a flow's lines go on at this column or more */
	char *scratch;            /* a decoded quoted scalar */
	size_t scap;
};

/* Every "not sure" ends in this: give up, libyaml reads the buffer. */
#define OUT (-1)
#define TRY(x)                          \
	do {                            \
		if ((x) < 0)            \
			return -1;      \
	} while (0)

/* ------------------------------------------------------------- characters */

/* The width of the character at p when libyaml reads it as an ordinary
 * printable one, else 0: controls, tab, CR, and NEL, LS, PS (line breaks
 * to libyaml), BOM, non-characters.  The buffer is valid UTF-8. */
static int char_ok(const char *p)
{
	unsigned char b = (unsigned char)p[0];
	if (b >= 0x20 && b < 0x7f)
		return 1;
	if (b < 0x80)
		return 0;
	unsigned cp;
	int w;
	if (b < 0xe0) {
		cp = (b & 0x1fu) << 6 | ((unsigned char)p[1] & 0x3fu);
		w = 2;
	} else if (b < 0xf0) {
		cp = (b & 0x0fu) << 12 | ((unsigned char)p[1] & 0x3fu) << 6 |
		     ((unsigned char)p[2] & 0x3fu);
		w = 3;
	} else {
		return 4; /* U+10000..U+10FFFF: printable to libyaml */
	}
	if ((cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
	    (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff))
		return w;
	return 0;
}

static int is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int at_eol(const struct fast *f, const char *p)
{
	return p == f->end || *p == '\n';
}

/* The length of a plain key at p (a letter or '_', then letters, digits,
 * '_' and '-') followed by ':' and a space or the line's end, else 0. */
static size_t key_at(const struct fast *f, const char *p)
{
	const char *q = p;
	if (q == f->end || !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_'))
		return 0;
	while (q < f->end && is_key_char(*q) && q - p < KEY_MAX)
		q++;
	if (q == f->end || *q != ':' || !(q + 1 == f->end || q[1] == ' ' || q[1] == '\n'))
		return 0;
	return (size_t)(q - p);
}

/* Whether p starts a block sequence entry: '-' then a space or the end. */
static int entry_at(const struct fast *f, const char *p)
{
	return p < f->end && *p == '-' && (p + 1 == f->end || p[1] == ' ' || p[1] == '\n');
}

/* ------------------------------------------------------------------ lines */

/* From the start of a line: past blank and comment lines to the first
 * content character of the next content line (f->ind its indent), or to
 * the end (f->ind -1). */
static int next_content(struct fast *f)
{
	for (;;) {
		const char *p = f->p;
		f->ls = p;
		if (p == f->end) {
			f->ind = -1;
			return 0;
		}
		while (p < f->end && *p == ' ')
			p++;
		if (p < f->end && *p == '#') {
			while (p < f->end && *p != '\n') {
				int w = char_ok(p);
				if (!w)
					return OUT;
				p += w;
			}
		}
		if (p == f->end) {
			f->p = p;
			continue;
		}
		if (*p == '\n') {
			f->p = p + 1;
			f->line++;
			continue;
		}
		f->p = p;
		f->ind = (int)(p - f->ls);
		return 0;
	}
}

/* After a value: spaces, maybe a comment, then the line's end; the cursor
 * moves on to the next content line. */
static int end_line(struct fast *f)
{
	const char *p = f->p;
	while (p < f->end && *p == ' ')
		p++;
	if (p < f->end && *p == '#') {
		/* libyaml takes "x"#c as a comment too; not sure of the rest */
		if (p[-1] != ' ')
			return OUT;
		while (p < f->end && *p != '\n') {
			int w = char_ok(p);
			if (!w)
				return OUT;
			p += w;
		}
	}
	if (p < f->end) {
		if (*p != '\n')
			return OUT;
		p++;
		f->line++;
	}
	f->p = p;
	return next_content(f);
}

/* ----------------------------------------------------------------- events */

static int column_of(const struct fast *f, const char *p)
{
	int c = 1;
	for (const char *q = f->ls; q < p; q++)
		c += ((unsigned char)*q & 0xc0) != 0x80;
	return c;
}

static int ev_scalar(struct fast *f, const char *at, const char *v, size_t len, int plain)
{
	if (len > GZ_YAML_MAX_SCALAR)
		return OUT; /* libyaml's reading says so */
	if (!f->t)
		return 0;
	if (gz_yaml_tree_node(f->t, GZ_YAML_SCALAR, f->line + f->y->line_base, column_of(f, at),
			      v, len, plain))
		return -2;
	return 0;
}

static int ev_start(struct fast *f, enum gz_yaml_kind kind, const char *at)
{
	if (f->depth == GZ_YAML_MAX_DEPTH - (f->y->items_at_root ? 1 : 0))
		return OUT; /* libyaml's reading says so */
	f->depth++;
	if (!f->t)
		return 0;
	if (gz_yaml_tree_node(f->t, kind, f->line + f->y->line_base, column_of(f, at), NULL, 0, 0))
		return -2;
	return 0;
}

static void ev_end(struct fast *f)
{
	f->depth--;
	if (f->t)
		gz_yaml_tree_end(f->t);
}

/* ---------------------------------------------------------------- scalars */

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The escape after a backslash at p: its code point and length, or -1.
 * libyaml's table, less the escaped tab and line break. */
static int escape(const char *p, const char *end, unsigned *cp)
{
	int digits = 0;
	switch (*p) {
	case '0': *cp = 0; return 1;
	case 'a': *cp = 7; return 1;
	case 'b': *cp = 8; return 1;
	case 't': *cp = 9; return 1;
	case 'n': *cp = 10; return 1;
	case 'v': *cp = 11; return 1;
	case 'f': *cp = 12; return 1;
	case 'r': *cp = 13; return 1;
	case 'e': *cp = 0x1b; return 1;
	case ' ': *cp = ' '; return 1;
	case '"': *cp = '"'; return 1;
	case '/': *cp = '/'; return 1;
	case '\\': *cp = '\\'; return 1;
	case 'N': *cp = 0x85; return 1;
	case '_': *cp = 0xa0; return 1;
	case 'L': *cp = 0x2028; return 1;
	case 'P': *cp = 0x2029; return 1;
	case 'x': digits = 2; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default: return -1;
	}
	if (end - p <= digits)
		return -1;
	unsigned v = 0;
	for (int i = 1; i <= digits; i++) {
		int h = hex(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	/* libyaml refuses surrogates, JSON's pairs included */
	if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return -1;
	*cp = v;
	return 1 + digits;
}

/* A double-quoted scalar on one line, the cursor at its quote. */
static int dquoted(struct fast *f)
{
	const char *at = f->p, *p = at + 1, *run = p;
	size_t len = 0, o = 0;
	int escaped = 0;
	/* first the length (and whether it is in the subset), then, when it
	 * has escapes and a tree is built, the decoding */
	for (;;) {
		/* the common case first: printable ASCII */
		const char *q = p;
		while (q < f->end && (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x7f &&
		       *q != '"' && *q != '\\')
			q++;
		len += (size_t)(q - p);
		p = q;
		if (p == f->end || *p == '\n')
			return OUT;
		if (*p == '"')
			break;
		if (*p == '\\') {
			unsigned cp;
			if (p + 1 == f->end)
				return OUT;
			int n = escape(p + 1, f->end, &cp);
			if (n < 0)
				return OUT;
			char tmp[4];
			len += put_utf8(tmp, cp);
			p += 1 + n;
			escaped = 1;
			continue;
		}
		int w = char_ok(p);
		if (!w)
			return OUT;
		p += w;
		len += (size_t)w;
	}
	const char *close = p;
	if (len > GZ_YAML_MAX_SCALAR)
		return OUT;
	if (escaped && f->t) {
		if (len > f->scap) {
			char *s = realloc(f->scratch, len);
			if (!s) {
				f->y->oom = 1;
				return -2;
			}
			f->scratch = s;
			f->scap = len;
		}
		for (p = run; p < close;) {
			if (*p == '\\') {
				unsigned cp;
				int n = escape(p + 1, f->end, &cp);
				o += put_utf8(f->scratch + o, cp);
				p += 1 + n;
			} else {
				f->scratch[o++] = *p++;
			}
		}
	}
	TRY(ev_scalar(f, at, escaped ? f->scratch : run, len, 0));
	f->p = close + 1;
	return 0;
}

/* Whether c may start a plain scalar: not an indicator, not a space. */
static int plain_start(const struct fast *f, const char *p)
{
	switch (*p) {
	case '-':
		/* "-1.5", "-x": a sign, not an entry */
		return p + 1 < f->end && (is_key_char(p[1]) || p[1] == '.') && p[1] != '-';
	case '?': case ':': case ',': case '[': case ']': case '{': case '}':
	case '#': case '&': case '*': case '!': case '|': case '>': case '\'':
	case '"': case '%': case '@': case '`': case ' ':
		return 0;
	}
	return char_ok(p) > 0;
}

/* A plain scalar on one line, the cursor at its first character.  In a
 * flow collection it ends at ',', ']' or '}'; anywhere it ends at " #" or
 * the line's end.  A ':' anywhere, or '[', '{', '#' in a flow, and it is
 * not sure. */
static int plain(struct fast *f, int flow)
{
	const char *at = f->p, *p = at, *last = at;
	while (p < f->end && *p != '\n') {
		char c = *p;
		if (c == ':' || c == '?')
			return OUT;
		if (flow && (c == ',' || c == ']' || c == '}'))
			break;
		if (flow && (c == '[' || c == '{' || c == '#'))
			return OUT;
		if (c == ' ') {
			if (p + 1 < f->end && p[1] == '#')
				break;
			p++;
			continue;
		}
		int w = char_ok(p);
		if (!w)
			return OUT;
		p += w;
		last = p;
	}
	/* the spaces before the end are not the scalar's */
	TRY(ev_scalar(f, at, at, (size_t)(last - at), 1));
	f->p = last;
	return 0;
}

/* ------------------------------------------------------------ collections */

static int flow_node(struct fast *f);

static void skip_spaces(struct fast *f)
{
	while (f->p < f->end && *f->p == ' ')
		f->p++;
}

/* Spaces in a flow collection, and a line break after its '[', '{' or
 * ',': the flow goes on on the next line, indented more than the block it
 * is in.  Not a break elsewhere (after a plain scalar it would go on on
 * the next line), nor blank or comment lines. */
static int flow_space(struct fast *f)
{
	skip_spaces(f);
	if (f->p == f->end || *f->p != '\n')
		return 0;
	const char *p = f->p + 1;
	f->line++;
	f->ls = p;
	while (p < f->end && *p == ' ')
		p++;
	if (p - f->ls < f->flow_min || p == f->end || *p == '\n' || *p == '#')
		return OUT;
	f->p = p;
	return 0;
}

/* [a, "b", {..}] (kind GZ_YAML_SEQ) or {key: value, ...} with plain keys
 * (GZ_YAML_MAP), the cursor at its '[' or '{'. */
static int flow_collection(struct fast *f, enum gz_yaml_kind kind)
{
	const char close = kind == GZ_YAML_SEQ ? ']' : '}';
	TRY(ev_start(f, kind, f->p));
	f->p++;
	TRY(flow_space(f));
	if (f->p < f->end && *f->p == close) {
		f->p++;
		ev_end(f);
		return 0;
	}
	for (;;) {
		if (kind == GZ_YAML_MAP) {
			size_t k = key_at(f, f->p);
			if (!k || f->p + k + 1 == f->end || f->p[k + 1] != ' ')
				return OUT;
			TRY(ev_scalar(f, f->p, f->p, k, 1));
			f->p += k + 1;
			skip_spaces(f);
		}
		TRY(flow_node(f));
		skip_spaces(f);
		if (f->p == f->end)
			return OUT;
		if (*f->p == close)
			break;
		if (*f->p != ',')
			return OUT;
		f->p++;
		TRY(flow_space(f));
		if (f->p == f->end || *f->p == close)
			return OUT;
	}
	f->p++;
	ev_end(f);
	return 0;
}

/* A double-quoted scalar, a flow collection or a plain scalar (flow:
 * inside a flow collection) at the cursor. */
static int node_at(struct fast *f, int flow)
{
	switch (*f->p) {
	case '"':
		return dquoted(f);
	case '[':
		return flow_collection(f, GZ_YAML_SEQ);
	case '{':
		return flow_collection(f, GZ_YAML_MAP);
	default:
		return plain_start(f, f->p) ? plain(f, flow) : OUT;
	}
}

/* A node inside a flow collection; a key there (`[a: b]`) is not sure (a
 * plain scalar refuses its ':' itself). */
static int flow_node(struct fast *f)
{
	if (f->p == f->end)
		return OUT;
	TRY(node_at(f, 1));
	skip_spaces(f);
	if (f->p < f->end && *f->p == ':')
		return OUT;
	return 0;
}

/* A value on the line of its key or entry: a scalar or a flow collection,
 * then the rest of the line; indent: the column of the block it is in. */
static int inline_value(struct fast *f, int indent)
{
	f->flow_min = indent + 1;
	TRY(node_at(f, 0));
	return end_line(f);
}

static int block_seq(struct fast *f, int indent, int indentless);

/* A block mapping whose keys are at column indent, the cursor at its first
 * key.  Returns at the first content line indented less (or the end). */
static int block_map(struct fast *f, int indent)
{
	TRY(ev_start(f, GZ_YAML_MAP, f->p));
	for (;;) {
		size_t k = key_at(f, f->p);
		if (!k)
			return OUT;
		TRY(ev_scalar(f, f->p, f->p, k, 1));
		f->p += k + 1;
		skip_spaces(f);
		if (at_eol(f, f->p) || (*f->p == '#' && f->p[-1] == ' ')) {
			/* the value on the lines below */
			TRY(end_line(f));
			if (f->ind > indent && key_at(f, f->p)) {
				TRY(block_map(f, f->ind));
			} else if (f->ind > indent && entry_at(f, f->p)) {
				TRY(block_seq(f, f->ind, 0));
			} else if (f->ind == indent && entry_at(f, f->p)) {
				TRY(block_seq(f, f->ind, 1));
			} else if (f->ind > indent && (*f->p == '[' || *f->p == '{' || *f->p == '"')) {
				TRY(inline_value(f, indent));
			} else {
				return OUT; /* a null, or a plain scalar that may go on */
			}
		} else {
			TRY(inline_value(f, indent));
		}
		if (f->ind < indent)
			break;
		if (f->ind > indent)
			return OUT;
	}
	ev_end(f);
	return 0;
}

/* A block sequence whose entries are at column indent, the cursor at the
 * first '-'; indentless: the value of a key at that same column. */
static int block_seq(struct fast *f, int indent, int indentless)
{
	TRY(ev_start(f, GZ_YAML_SEQ, f->p));
	for (;;) {
		f->p++;
		if (f->p == f->end || *f->p != ' ')
			return OUT; /* an entry on the lines below */
		skip_spaces(f);
		if (at_eol(f, f->p) || *f->p == '#')
			return OUT;
		if (key_at(f, f->p)) {
			/* `- key: value`: a mapping at the key's column */
			TRY(block_map(f, column_of(f, f->p) - 1));
		} else {
			TRY(inline_value(f, indent));
		}
		if (f->ind < indent)
			break;
		if (f->ind > indent)
			return OUT;
		if (!entry_at(f, f->p)) {
			if (!indentless)
				return OUT;
			break;
		}
	}
	ev_end(f);
	return 0;
}

/* One pass over the buffer: 0 when it is all in the subset (and, with a
 * tree, built), OUT when not, -2 when the tree failed (out of memory). */
static int read_document(struct fast *f)
{
	TRY(next_content(f));
	if (f->ind < 0)
		return OUT; /* an empty file: libyaml has the words for it */
	if (key_at(f, f->p))
		TRY(block_map(f, f->ind));
	else if (entry_at(f, f->p))
		TRY(block_seq(f, f->ind, 0));
	else
		return OUT;
	return f->ind < 0 ? 0 : OUT;
}

struct gz_yaml_node *gz_yaml_fast_read(struct gz_yaml *y, const char *buf, size_t len,
				       int *fell_back)
{
	struct fast f = { .y = y, .p = buf, .end = buf + len, .line = 1 };
	*fell_back = 1;
	if (read_document(&f) < 0) {
		free(f.scratch);
		return NULL;
	}
	struct gz_yaml_tree t;
	gz_yaml_tree_init(&t, y);
	f.t = &t;
	f.p = buf;
	f.line = 1;
	f.depth = 0;
	*fell_back = 0;
	int r = read_document(&f);
	free(f.scratch);
	if (r < 0)
		return gz_yaml_tree_fail(&t); /* only out of memory can fail here */
	return gz_yaml_tree_done(&t);
}
