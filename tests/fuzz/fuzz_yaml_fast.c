/*
 * libFuzzer target: any bytes as a gazetteer file's YAML, read by libyaml
 * alone and by gz_yaml_read with its fast path (daemon/yaml_fast.c), as a
 * whole file and as a piece of one.  The two readings must be the same:
 * every node's kind, value, length, plain flag, line and column, the items
 * handed to on_entry and their order, the flags and every problem's text
 * (tests/fuzz/yaml_fast_diff.h).  Any difference aborts, the two readings
 * printed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "yaml_fast_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (yfd_compare((const char *)data, size) < 0)
		abort();
	return 0;
}
