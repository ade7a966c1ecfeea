/*
 * An entry's attrs (SPEC §2) as compact JSON text, and the typing of plain
 * YAML scalars behind it: integers, floats, true/false, null/~, everything
 * else a string.  A priority is typed the same way.  Internal to the
 * gazetteer loader.
 */
#ifndef GZ_ATTRS_H
#define GZ_ATTRS_H

#include <jansson.h>

#include "buf.h"
#include "yaml_reader.h"

/* Checks an attrs value at every depth: mapping keys are strings and not
 * repeated.  Problems go to y; returns 1 when there are none. */
int gz_attrs_check(struct gz_yaml *y, const struct gz_yaml_node *n);

/* Appends n, checked, to t as compact JSON.  Numbers keep the digits the
 * user wrote (made valid JSON: no leading '+', no bare '.'). */
void gz_attrs_write(struct gz_buf *t, const struct gz_yaml_node *n);

/* A scalar typed as above, as a jansson value.  New reference, or NULL. */
json_t *gz_attrs_scalar_json(const struct gz_yaml_node *n);

#endif
