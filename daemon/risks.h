/*
 * What `gaztagd --check` warns of before a set is loaded for real (issue 13):
 * names that will tag ordinary prose, and surface forms that entries of
 * different files share.  Warnings, not errors: the set loads either way.
 */
#ifndef GZ_RISKS_H
#define GZ_RISKS_H

#include "error.h"
#include "set.h"

struct gz_risk_counts {
	size_t common;   /* one-word names that are common words, unguarded */
	size_t shared;   /* surface forms shared by entries of different files */
};

/* Adds to diag a line per risk, at most max_each of each kind, as
 * "FILE:LINE:COL: warning: ..." and "FILE:LINE:COL: note: ...", and counts
 * them all.  A name is guarded when its case is sensitive or proper, its
 * entry says evidence: required, or its file says common_words: skip. */
void gz_risks_report(const struct gz_set *set, struct gz_diag *diag, size_t max_each,
		     struct gz_risk_counts *counts);

#endif
