/*
 * An entry's attrs as compact JSON text; see attrs.h.
 *
 * A set keeps each entry's attrs as text rather than a jansson tree (a tree
 * costs ten times the memory, which matters at a million entries), so the
 * text is written here straight from the YAML nodes, into buf.h's buffer.
 * Plain scalars are typed by YAML 1.2's core schema, limited to the words
 * SPEC §2 names; numbers keep the digits the user wrote, so 50.45 never
 * passes through a double's printing.
 */
#include "attrs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum scalar_kind { S_STRING, S_NULL, S_TRUE, S_FALSE, S_INT, S_REAL };

/* YAML 1.2 core-schema typing of plain scalars, limited to SPEC §2's words:
 * integers, floats, true/false, null/~; everything else is a string.  A
 * leading zero (a postcode, an id such as 007) keeps the value a string: as
 * a number it would lose the zero. */
static enum scalar_kind scalar_kind(const struct gz_yaml_node *n, long long *ival, double *dval)
{
	const char *s = n->value;
	if (!n->plain)
		return S_STRING;
	if (n->len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
		return S_NULL;
	if (strcmp(s, "true") == 0)
		return S_TRUE;
	if (strcmp(s, "false") == 0)
		return S_FALSE;
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return S_STRING;
	int digits = 0, dot = 0, exp = 0;
	for (const char *q = p; *q; q++) {
		if (*q >= '0' && *q <= '9') {
			digits++;
		} else if (*q == '.' && !dot && !exp) {
			dot = 1;
		} else if ((*q == 'e' || *q == 'E') && digits && !exp) {
			exp = 1;
			if (q[1] == '+' || q[1] == '-')
				q++;
			if (!(q[1] >= '0' && q[1] <= '9'))
				return S_STRING;
		} else {
			return S_STRING;
		}
	}
	if (!digits)
		return S_STRING;
	if (!dot && !exp) {
		errno = 0;
		*ival = strtoll(s, NULL, 10);
		if (errno != ERANGE)
			return S_INT;
	}
	*dval = strtod(s, NULL);
	if (!isfinite(*dval))
		return S_STRING;
	return S_REAL;
}

json_t *gz_attrs_scalar_json(const struct gz_yaml_node *n)
{
	long long i = 0;
	double d = 0;
	switch (scalar_kind(n, &i, &d)) {
	case S_NULL: return json_null();
	case S_TRUE: return json_true();
	case S_FALSE: return json_false();
	case S_INT: return json_integer(i);
	case S_REAL: return json_real(d);
	default: return json_stringn(n->value, n->len);
	}
}

/* A scalar as JSON, typed as scalar_json types it.  Numbers keep the digits
 * the user wrote (made valid JSON: no leading '+', no bare '.'), so that
 * 50.45 stays 50.45 rather than passing through a double's printing. */
static void put_scalar(struct gz_buf *t, const struct gz_yaml_node *n)
{
	long long ival = 0;
	double dval = 0;
	char num[64];
	const char *v = n->value;
	switch (scalar_kind(n, &ival, &dval)) {
	case S_STRING:
		gz_buf_append_json_string(t, n->value, n->len);
		break;
	case S_NULL:
		gz_buf_append(t, "null", 4);
		break;
	case S_TRUE:
		gz_buf_append(t, "true", 4);
		break;
	case S_FALSE:
		gz_buf_append(t, "false", 5);
		break;
	case S_INT:
		snprintf(num, sizeof num, "%lld", ival);
		gz_buf_append(t, num, strlen(num));
		break;
	case S_REAL:
		if (strchr(v, '.') == NULL && strpbrk(v, "eE") == NULL) {
			/* an integer too large for 64 bits: write it as a real */
			snprintf(num, sizeof num, "%.17g", dval);
			gz_buf_append(t, num, strlen(num));
			break;
		}
		if (*v == '+')
			v++;
		if (*v == '-')
			gz_buf_append(t, v++, 1);
		if (*v == '.')
			gz_buf_append(t, "0", 1);
		for (; *v; v++) {
			gz_buf_append(t, v, 1);
			if (*v == '.' && !(v[1] >= '0' && v[1] <= '9'))
				gz_buf_append(t, "0", 1);
		}
		break;
	}
}

void gz_attrs_write(struct gz_buf *t, const struct gz_yaml_node *n)
{
	if (n->kind == GZ_YAML_SCALAR) {
		put_scalar(t, n);
	} else if (n->kind == GZ_YAML_SEQ) {
		gz_buf_append(t, "[", 1);
		for (size_t i = 0; i < n->nkids; i++) {
			if (i)
				gz_buf_append(t, ",", 1);
			gz_attrs_write(t, n->kids[i]);
		}
		gz_buf_append(t, "]", 1);
	} else {
		gz_buf_append(t, "{", 1);
		for (size_t i = 0; i + 1 < n->nkids; i += 2) {
			if (i)
				gz_buf_append(t, ",", 1);
			gz_buf_append_json_string(t, n->kids[i]->value, n->kids[i]->len);
			gz_buf_append(t, ":", 1);
			gz_attrs_write(t, n->kids[i + 1]);
		}
		gz_buf_append(t, "}", 1);
	}
}

int gz_attrs_check(struct gz_yaml *y, const struct gz_yaml_node *n)
{
	int ok = 1;
	if (n->kind == GZ_YAML_MAP) {
		for (size_t i = 0; i + 1 < n->nkids; i += 2) {
			const struct gz_yaml_node *k = n->kids[i];
			if (k->kind != GZ_YAML_SCALAR) {
				gz_yaml_problem(y, k->line, k->column, "attrs keys must be strings, found %s",
					gz_yaml_kind_name(k));
				ok = 0;
				continue;
			}
			for (size_t j = 0; j < i; j += 2)
				if (n->kids[j]->kind == GZ_YAML_SCALAR &&
				    strcmp(n->kids[j]->value, k->value) == 0) {
					gz_yaml_problem(y, k->line, k->column,
							"duplicate key '%s' in attrs (first at line %d)",
							k->value, n->kids[j]->line);
					ok = 0;
				}
			ok &= gz_attrs_check(y, n->kids[i + 1]);
		}
	} else if (n->kind == GZ_YAML_SEQ) {
		for (size_t i = 0; i < n->nkids; i++)
			ok &= gz_attrs_check(y, n->kids[i]);
	}
	return ok;
}
