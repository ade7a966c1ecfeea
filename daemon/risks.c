/*
 * Risks of a gazetteer set; see risks.h.
 *
 * Both walks read what the build already made: each one-token name carries
 * the languages whose common words it folds to (set.c fills it from
 * words.c), and the trie's nodes hold every name that folds to one surface
 * form, so a form shared across files is a node whose names come from two
 * files.  Nothing is folded again.
 */
#include "risks.h"

#include <stdio.h>
#include <string.h>

#include "set_internal.h"
#include "words.h"

static const char *language_name(const char *code)
{
	static const char *const names[][2] = {
		{ "en", "English" }, { "fr", "French" }, { "de", "German" },
		{ "es", "Spanish" }, { "uk", "Ukrainian" }, { "ru", "Russian" },
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(names[i][0], code))
			return names[i][1];
	return code;
}

/* The form a name record stands for, and where it is written. */
static const char *form_of(const struct gz_entry *e, const struct gz_name *nm, int *line,
			   int *column)
{
	if (nm->form == 0) {
		*line = e->name_line;
		*column = e->name_column;
		return gz_entry_name(e);
	}
	const struct gz_alias *a = &gz_entry_aliases(e)[nm->form - 1];
	*line = a->line;
	*column = a->column;
	return gz_alias_text(a);
}

static void report_common(const struct gz_set *set, struct gz_diag *diag, size_t max,
			  size_t *count)
{
	const struct gz_name *names = gz_set_names(set);
	for (size_t i = 0; i < gz_set_name_count(set); i++) {
		const struct gz_name *nm = &names[i];
		const struct gz_entry *e = gz_set_entry(set, nm->entry);
		if (!nm->common_langs || nm->case_rule != GZ_CASE_INSENSITIVE ||
		    (nm->flags & (GZ_NAME_SKIP | GZ_NAME_EVIDENCE)))
			continue;
		if ((*count)++ >= max)
			continue;
		char langs[64] = "";
		size_t l = 0;
		for (size_t k = 0; k < gz_words_lang_count() && l < sizeof langs - 12; k++)
			if (nm->common_langs >> k & 1)
				l += (size_t)snprintf(langs + l, sizeof langs - l, "%s%s", l ? "/" : "",
						      language_name(gz_words_lang(k)));
		int line, column;
		const char *form = form_of(e, nm, &line, &column);
		gz_diag_add(diag, gz_entry_file(e), line, column,
			    "warning: '%.60s' (entry '%.60s') is a common %s word and matches in "
			    "any case; guard it with case: proper or sensitive, evidence: required, "
			    "or common_words: skip in its file",
			    form, gz_entry_id(e), langs);
	}
}

static void report_shared(const struct gz_set *set, struct gz_diag *diag, size_t max,
			  size_t *count)
{
	const struct gz_trie *trie = gz_set_trie(set);
	const struct gz_name *names = gz_set_names(set);
	for (uint32_t node = 0; node < gz_trie_node_count(trie); node++) {
		size_t np;
		const uint32_t *p = gz_trie_payloads(trie, node, &np);
		if (np < 2)
			continue;
		const struct gz_entry *first = gz_set_entry(set, names[p[0]].entry), *other = NULL;
		size_t k = 1;
		for (; k < np && !other; k++) {
			const struct gz_entry *e = gz_set_entry(set, names[p[k]].entry);
			if (gz_entry_file(e) != gz_entry_file(first))
				other = e;
		}
		if (!other || (*count)++ >= max)
			continue;
		int line, column, oline, ocolumn;
		const char *form = form_of(first, &names[p[0]], &line, &column);
		form_of(other, &names[p[k - 1]], &oline, &ocolumn);
		gz_diag_add(diag, gz_entry_file(first), line, column,
			    "note: '%.60s' (entry '%.60s') is also a name of '%.60s' (%s:%d:%d); "
			    "%zu names share it, chosen by context and priority",
			    form, gz_entry_id(first), gz_entry_id(other), gz_entry_file(other), oline, ocolumn, np);
	}
}

void gz_risks_report(const struct gz_set *set, struct gz_diag *diag, size_t max_each,
		     struct gz_risk_counts *counts)
{
	memset(counts, 0, sizeof(*counts));
	report_common(set, diag, max_each, &counts->common);
	report_shared(set, diag, max_each, &counts->shared);
}
