/*
 * Unit tests for trie.c: interning of tokens and gaps, paths of (gap,
 * token) steps, payloads grouped per node in insertion order, and growth of
 * the tables well past their initial sizes.
 */
#include "unit_helpers.h"

#include "trie.h"

static int64_t tok(struct gz_trie *t, const char *s)
{
	return gz_trie_intern_token(t, s, strlen(s));
}

static int64_t find(const struct gz_trie *t, const char *s)
{
	return gz_trie_find_token(t, gz_token_hash(s, strlen(s)), s, strlen(s));
}

/* Inserts a path of tokens with every gap 0 except where gaps says. */
static void insert(struct gz_trie *t, const uint32_t *tokens, const uint32_t *gaps, size_t n,
		   uint32_t payload)
{
	assert_int_equal(gz_trie_insert(t, tokens, gaps, n, payload), 0);
}

static uint32_t walk(const struct gz_trie *t, const uint32_t *tokens, const uint32_t *gaps, size_t n)
{
	uint32_t node = GZ_TRIE_ROOT;
	for (size_t i = 0; i < n && node != GZ_TRIE_NONE; i++)
		node = gz_trie_step(t, node, i ? gaps[i] : 0, tokens[i]);
	return node;
}

static void test_new_trie_has_root_and_empty_gap(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	assert_non_null(t);
	assert_int_equal(gz_trie_node_count(t), 1);
	assert_int_equal(gz_trie_token_count(t), 0);
	assert_int_equal(gz_trie_find_gap(t, "", 0), 0);
	assert_int_equal(gz_trie_find_gap(t, ".", 1), -1);
	assert_int_equal(find(t, "kyiv"), -1);
	assert_int_equal(gz_trie_step(t, GZ_TRIE_ROOT, 0, 0), GZ_TRIE_NONE);
	gz_trie_free(t);
}

static void test_intern_token_returns_same_id_for_same_string(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	assert_int_equal(tok(t, "kyiv"), 0);
	assert_int_equal(tok(t, "oblast"), 1);
	assert_int_equal(tok(t, "kyiv"), 0);
	assert_int_equal(gz_trie_intern_token(t, "kyivx", 4), 0);  /* length bounds the string */
	assert_int_equal(tok(t, "киів"), 2);
	assert_int_equal(gz_trie_token_count(t), 3);
	assert_int_equal(find(t, "oblast"), 1);
	assert_int_equal(find(t, "киів"), 2);
	assert_int_equal(find(t, "kyi"), -1);
	assert_int_equal(find(t, "Kyiv"), -1);  /* lookups are of folded forms: exact bytes */
	gz_trie_free(t);
}

static void test_gaps_interned_apart_from_tokens(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	assert_int_equal(gz_trie_intern_gap(t, ".", 1), 1);
	assert_int_equal(gz_trie_intern_gap(t, "&", 1), 2);
	assert_int_equal(gz_trie_intern_gap(t, ".", 1), 1);
	assert_int_equal(tok(t, "."), 0);  /* the vocabulary is a separate table */
	assert_int_equal(gz_trie_find_gap(t, "&", 1), 2);
	assert_int_equal(gz_trie_find_gap(t, ",", 1), -1);
	gz_trie_free(t);
}

static void test_path_found_only_with_same_tokens_and_gaps(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	uint32_t st = (uint32_t)tok(t, "st"), pb = (uint32_t)tok(t, "petersburg");
	uint32_t dot = (uint32_t)gz_trie_intern_gap(t, ".", 1);
	uint32_t toks[] = { st, pb }, with_dot[] = { 0, dot }, plain[] = { 0, 0 };
	insert(t, toks, with_dot, 2, 7);
	assert_int_equal(gz_trie_finish(t), 0);

	uint32_t end = walk(t, toks, with_dot, 2);
	assert_int_not_equal(end, GZ_TRIE_NONE);
	size_t n;
	const uint32_t *p = gz_trie_payloads(t, end, &n);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 7);
	/* St Petersburg (no period) is another path: not there */
	assert_int_equal(walk(t, toks, plain, 2), GZ_TRIE_NONE);
	/* tokens in the other order: not there */
	uint32_t rev[] = { pb, st };
	assert_int_equal(walk(t, rev, with_dot, 2), GZ_TRIE_NONE);
	gz_trie_free(t);
}

static void test_prefix_node_has_children_and_own_payloads(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	uint32_t kyiv = (uint32_t)tok(t, "kyiv"), oblast = (uint32_t)tok(t, "oblast");
	uint32_t one[] = { kyiv }, two[] = { kyiv, oblast }, gaps[] = { 0, 0 };
	insert(t, two, gaps, 2, 1);
	insert(t, one, gaps, 1, 0);
	assert_int_equal(gz_trie_finish(t), 0);
	assert_int_equal(gz_trie_node_count(t), 3);

	uint32_t n1 = walk(t, one, gaps, 1), n2 = walk(t, two, gaps, 2);
	assert_true(gz_trie_has_children(t, GZ_TRIE_ROOT));
	assert_true(gz_trie_has_children(t, n1));
	assert_false(gz_trie_has_children(t, n2));
	size_t c1, c2, c0;
	const uint32_t *p1 = gz_trie_payloads(t, n1, &c1), *p2 = gz_trie_payloads(t, n2, &c2);
	gz_trie_payloads(t, GZ_TRIE_ROOT, &c0);
	assert_int_equal(c0, 0);
	assert_int_equal(c1, 1);
	assert_int_equal(p1[0], 0);
	assert_int_equal(c2, 1);
	assert_int_equal(p2[0], 1);
	gz_trie_free(t);
}

static void test_payloads_of_one_node_keep_insertion_order(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	uint32_t azov = (uint32_t)tok(t, "azov"), sea = (uint32_t)tok(t, "sea");
	uint32_t a[] = { azov }, s[] = { sea, azov }, gaps[] = { 0, 0 };
	/* interleave two nodes so that the grouping has to sort */
	insert(t, a, gaps, 1, 5);
	insert(t, s, gaps, 2, 1);
	insert(t, a, gaps, 1, 3);
	insert(t, s, gaps, 2, 0);
	insert(t, a, gaps, 1, 9);
	assert_int_equal(gz_trie_finish(t), 0);
	size_t n;
	const uint32_t *p = gz_trie_payloads(t, walk(t, a, gaps, 1), &n);
	assert_int_equal(n, 3);
	assert_int_equal(p[0], 5);
	assert_int_equal(p[1], 3);
	assert_int_equal(p[2], 9);
	p = gz_trie_payloads(t, walk(t, s, gaps, 2), &n);
	assert_int_equal(n, 2);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[1], 0);
	gz_trie_free(t);
}

static void test_shared_prefix_shares_nodes(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	uint32_t sea = (uint32_t)tok(t, "sea"), of = (uint32_t)tok(t, "of"),
		 azov = (uint32_t)tok(t, "azov"), japan = (uint32_t)tok(t, "japan");
	uint32_t p1[] = { sea, of, azov }, p2[] = { sea, of, japan }, gaps[] = { 0, 0, 0 };
	insert(t, p1, gaps, 3, 0);
	insert(t, p2, gaps, 3, 1);
	assert_int_equal(gz_trie_finish(t), 0);
	/* root, sea, sea-of, sea-of-azov, sea-of-japan */
	assert_int_equal(gz_trie_node_count(t), 5);
	assert_int_equal(walk(t, p1, gaps, 2), walk(t, p2, gaps, 2));
	assert_int_not_equal(walk(t, p1, gaps, 3), walk(t, p2, gaps, 3));
	gz_trie_free(t);
}

static void test_same_path_inserted_twice_adds_payload_not_node(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	uint32_t k = (uint32_t)tok(t, "kyiv"), path[] = { k }, gaps[] = { 0 };
	insert(t, path, gaps, 1, 0);
	insert(t, path, gaps, 1, 1);
	assert_int_equal(gz_trie_finish(t), 0);
	assert_int_equal(gz_trie_node_count(t), 2);
	size_t n;
	gz_trie_payloads(t, walk(t, path, gaps, 1), &n);
	assert_int_equal(n, 2);
	gz_trie_free(t);
}

static void test_many_paths_survive_table_growth(void **state)
{
	(void)state;
	/* 20000 two-token names: far past every table's first size */
	enum { N = 20000 };
	struct gz_trie *t = gz_trie_new();
	char buf[32];
	uint32_t common = (uint32_t)tok(t, "oblast");
	for (uint32_t i = 0; i < N; i++) {
		snprintf(buf, sizeof buf, "place%u", i);
		uint32_t path[] = { (uint32_t)tok(t, buf), common }, gaps[] = { 0, 0 };
		insert(t, path, gaps, 2, i);
	}
	assert_int_equal(gz_trie_finish(t), 0);
	assert_int_equal(gz_trie_token_count(t), N + 1);
	assert_int_equal(gz_trie_node_count(t), 1 + 2 * N);
	assert_true(gz_trie_memory(t) > 0);
	for (uint32_t i = 0; i < N; i += 997) {
		snprintf(buf, sizeof buf, "place%u", i);
		int64_t id = find(t, buf);
		assert_int_equal(id, (int64_t)i + 1);
		uint32_t path[] = { (uint32_t)id, common }, gaps[] = { 0, 0 };
		size_t n;
		const uint32_t *p = gz_trie_payloads(t, walk(t, path, gaps, 2), &n);
		assert_int_equal(n, 1);
		assert_int_equal(p[0], i);
	}
	assert_int_equal(find(t, "place20000"), -1);
	gz_trie_free(t);
}

static void test_hash_depends_only_on_bytes(void **state)
{
	(void)state;
	/* the tagger hashes folded tokens in its own buffers: equal bytes
	 * anywhere in memory must hash alike */
	char a[] = "xkyivx", b[] = "kyiv";
	assert_true(gz_hash_bytes(a + 1, 4) == gz_hash_bytes(b, 4));
	assert_true(gz_hash_bytes("kyiv", 4) != gz_hash_bytes("kyiw", 4));
	assert_true(gz_hash_bytes("kyiv", 4) != gz_hash_bytes("kyiv", 3));
	assert_true(gz_hash_bytes("", 0) == gz_hash_bytes(b, 0));
	/* the padded variant the scanner uses agrees at every tail length */
	char pad[40];
	memset(pad, 0x5a, sizeof pad);
	memcpy(pad, "zaporizhzhia-oblast-council", 27);
	for (size_t len = 0; len <= 27; len++)
		assert_true(gz_hash_padded(pad, len) == gz_hash_bytes("zaporizhzhia-oblast-council", len));
	/* and lookups by that hash find what interning stored */
	struct gz_trie *t = gz_trie_new();
	assert_int_equal(tok(t, "mariupol"), 0);
	char c[] = "MARIUPOL mariupol";
	assert_int_equal(gz_trie_find_token(t, gz_token_hash(c + 9, 8), c + 9, 8), 0);
	gz_trie_free(t);
}

static void test_token_hash_padded_equals_token_hash(void **state)
{
	(void)state;
	/* the scan hashes a token where it lies, reading past its end; the
	 * vocabulary hashes the interned copy: both must agree at every length
	 * (one word, a word and a tail, whole words only) */
	char pad[48];
	memset(pad, 0x5a, sizeof pad);
	memcpy(pad, "zaporizhzhia-oblast-council-ua", 30);
	for (size_t len = 1; len <= 30; len++) {
		char copy[32];
		memcpy(copy, pad, len);
		assert_true(gz_token_hash_padded(pad, len) == gz_token_hash(copy, len));
		if (len > 1)
			assert_true(gz_token_hash(copy, len) != gz_token_hash(copy, len - 1));
	}
	assert_true(gz_token_hash("kyiv", 4) != gz_token_hash("kyiw", 4));
}

static void test_scan_token_finds_tokens_and_whether_names_start_with_them(void **state)
{
	(void)state;
	struct gz_trie *t = gz_trie_new();
	/* "sea of azov", "azov", "dnipropetrovsk oblast": of and oblast start
	 * no name; an 8-byte and a 14-byte token */
	uint32_t sea = (uint32_t)tok(t, "sea"), of = (uint32_t)tok(t, "of"),
		 azov = (uint32_t)tok(t, "azov"), dnipro = (uint32_t)tok(t, "dnipropetrovsk"),
		 oblast = (uint32_t)tok(t, "oblast"), pasadena = (uint32_t)tok(t, "pasadena");
	uint32_t gaps[3] = { 0, 0, 0 };
	insert(t, (uint32_t[]){ sea, of, azov }, gaps, 3, 0);
	insert(t, (uint32_t[]){ azov }, gaps, 1, 1);
	insert(t, (uint32_t[]){ dnipro, oblast }, gaps, 2, 2);
	insert(t, (uint32_t[]){ pasadena }, gaps, 1, 3);
	assert_int_equal(gz_trie_finish(t), 0);
	static const struct { const char *s; int64_t id; int starts; } cases[] = {
		{ "sea", 0, 1 }, { "of", 1, 0 }, { "azov", 2, 1 }, { "dnipropetrovsk", 3, 1 },
		{ "oblast", 4, 0 }, { "pasadena", 5, 1 }, { "pasaden", -1, 0 }, { "pasadenas", -1, 0 },
		{ "dnipropetrovs", -1, 0 }, { "azo", -1, 0 }, { "x", -1, 0 },
	};
	struct gz_trie_filter all = gz_trie_token_filter(t), starts = gz_trie_start_filter(t);
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		char buf[32];
		memset(buf, 'q', sizeof buf); /* whatever lies past the token */
		size_t len = strlen(cases[k].s);
		memcpy(buf, cases[k].s, len);
		uint64_t h = gz_token_hash_padded(buf, len);
		int st = -1;
		assert_int_equal(gz_trie_scan_token(t, h, buf, len, &st), cases[k].id);
		assert_int_equal(find(t, cases[k].s), cases[k].id);
		if (cases[k].id >= 0) {
			assert_int_equal(st, cases[k].starts);
			/* no false negatives: a token passes its filters */
			assert_true(gz_trie_filter_maybe(all, h));
			if (cases[k].starts)
				assert_true(gz_trie_filter_maybe(starts, h));
		}
	}
	struct gz_trie_nodes nodes = gz_trie_nodes(t);
	assert_int_equal(nodes.root_child[of], GZ_TRIE_NONE);
	assert_int_equal(nodes.root_child[azov], walk(t, &azov, gaps, 1));
	uint32_t n = nodes.root_child[azov];
	assert_int_equal(nodes.first[n + 1] - nodes.first[n], 1);
	assert_int_equal(nodes.payloads[nodes.first[n]], 1);
	gz_trie_free(t);
}

static void test_filter_patterns_have_three_bits(void **state)
{
	(void)state;
	gz_trie_free(gz_trie_new()); /* fills the patterns */
	for (size_t k = 0; k < GZ_FILTER_PATTERNS; k++)
		assert_int_equal(__builtin_popcountll(gz_filter_patterns[k]), 3);
}

/* Random paths over a small alphabet (many shared prefixes, repeats and
 * paths that end inside others), inserted one at a time in one trie and in
 * batches of every size in another: every path leads to the same payloads,
 * in the same order, and the tries have as many nodes. */
static void test_batch_insert_equals_one_at_a_time(void **state)
{
	(void)state;
	enum { PATHS = 3000, MAXN = 5 };
	static uint32_t tokens[PATHS][MAXN], gaps[PATHS][MAXN];
	static size_t lens[PATHS];
	uint64_t x = 12345;
	for (size_t p = 0; p < PATHS; p++) {
		x = gz_mix64(x + p);
		lens[p] = 1 + x % MAXN;
		for (size_t i = 0; i < lens[p]; i++) {
			x = gz_mix64(x);
			tokens[p][i] = (uint32_t)(x % 7);
			gaps[p][i] = i ? (uint32_t)(x >> 32) % 2 : 0;
		}
	}
	for (size_t batch = 1; batch <= 40; batch += 13) {
		struct gz_trie *one = gz_trie_new(), *many = gz_trie_new();
		for (int k = 0; k < 7; k++) {
			char name[4] = { 't', (char)('0' + k), 0 };
			assert_int_equal(tok(one, name), k);
			assert_int_equal(tok(many, name), k);
		}
		assert_int_equal(gz_trie_intern_gap(one, "-", 1), 1);
		assert_int_equal(gz_trie_intern_gap(many, "-", 1), 1);
		for (size_t p = 0; p < PATHS; p++)
			insert(one, tokens[p], gaps[p], lens[p], (uint32_t)p);
		struct gz_trie_path paths[40];
		for (size_t p = 0; p < PATHS; p += batch) {
			size_t n = 0;
			for (size_t q = p; q < p + batch && q < PATHS; q++)
				paths[n++] = (struct gz_trie_path){ tokens[q], gaps[q], lens[q], (uint32_t)q, 0 };
			assert_int_equal(gz_trie_insert_batch(many, paths, n), 0);
		}
		assert_int_equal(gz_trie_finish(one), 0);
		assert_int_equal(gz_trie_finish(many), 0);
		assert_int_equal(gz_trie_node_count(one), gz_trie_node_count(many));
		for (size_t p = 0; p < PATHS; p++) {
			uint32_t a = walk(one, tokens[p], gaps[p], lens[p]);
			uint32_t b = walk(many, tokens[p], gaps[p], lens[p]);
			assert_int_not_equal(a, GZ_TRIE_NONE);
			assert_int_not_equal(b, GZ_TRIE_NONE);
			size_t na, nb;
			const uint32_t *pa = gz_trie_payloads(one, a, &na);
			const uint32_t *pb = gz_trie_payloads(many, b, &nb);
			assert_int_equal(na, nb);
			assert_memory_equal(pa, pb, na * sizeof(*pa));
			assert_int_equal(gz_trie_has_children(one, a), gz_trie_has_children(many, b));
		}
		gz_trie_free(one);
		gz_trie_free(many);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_trie_has_root_and_empty_gap),
		cmocka_unit_test(test_intern_token_returns_same_id_for_same_string),
		cmocka_unit_test(test_gaps_interned_apart_from_tokens),
		cmocka_unit_test(test_path_found_only_with_same_tokens_and_gaps),
		cmocka_unit_test(test_prefix_node_has_children_and_own_payloads),
		cmocka_unit_test(test_payloads_of_one_node_keep_insertion_order),
		cmocka_unit_test(test_shared_prefix_shares_nodes),
		cmocka_unit_test(test_same_path_inserted_twice_adds_payload_not_node),
		cmocka_unit_test(test_many_paths_survive_table_growth),
		cmocka_unit_test(test_batch_insert_equals_one_at_a_time),
		cmocka_unit_test(test_hash_depends_only_on_bytes),
		cmocka_unit_test(test_token_hash_padded_equals_token_hash),
		cmocka_unit_test(test_scan_token_finds_tokens_and_whether_names_start_with_them),
		cmocka_unit_test(test_filter_patterns_have_three_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
