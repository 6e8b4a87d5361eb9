#!/bin/sh
# tests/tools/check-layers (make check-layers): passes on the real tree, and on a copy of
# launcher/ with planted problems names each one with file:line — wrong arrows between the layer
# folders, unqualified includes, a file outside the layers, and launcher/README.md drifting from
# the tree.
. tests/cli/lib.sh
CL="$GPURUN_TOP/tests/tools/check-layers"

expect_rc 0 "the real tree passes" "$CL" "$GPURUN_TOP"
contains "... and says what it checked" "$T/out" '^check-layers: [0-9]+ files, [0-9]+ includes, all arrows allowed'
n_real=$(find "$GPURUN_TOP/launcher" -name '*.[ch]' | wc -l)
contains "... counting every source file" "$T/out" "^check-layers: $n_real files"

# a copy of the tree to plant problems in: T/t/launcher
fresh() { rm -rf "$T/t"; mkdir -p "$T/t"; cp -a "$GPURUN_TOP/launcher" "$T/t/"; }
# plant FILE LINE: append LINE to launcher/FILE, and set $at to FILE:its line number
plant() {
	printf '%s\n' "$2" >>"$T/t/launcher/$1"
	at="launcher/$1:$(wc -l <"$T/t/launcher/$1" | tr -d ' ')"
}

fresh
expect_rc 0 "an unchanged copy passes" "$CL" "$T/t"

# one wrong arrow per rule, each reported at its own line
for case in \
	'core/vfct.c|#include "host/ctx.h"|core/ -> host/' \
	'core/plan.h|#include "hostcfg/hostcfg.h"|core/ -> hostcfg/' \
	'core/rom.c|#include "cli/cmd.h"|core/ -> cli/' \
	'host/vfio.c|#include "cli/cmd.h"|host/ -> cli/' \
	'host/prepare.c|#include "hostcfg/hostcfg.h"|host/ -> hostcfg/' \
	'hostcfg/hostcfg.c|#include "cli/cmd.h"|hostcfg/ -> cli/' \
	'util/strv.c|#include "core/plan.h"|util/ -> core/' \
	'util/log.h|  #  include "host/ctx.h"|util/ -> host/'; do
	file=${case%%|*}
	rest=${case#*|}
	line=${rest%%|*}
	arrow=${rest#*|}
	fresh
	plant "$file" "$line"
	expect_rc 1 "$arrow fails" "$CL" "$T/t"
	contains "... at $at" "$T/out" "^$at: wrong arrow $arrow"
	contains "... and only there" "$T/out" '^check-layers: 1 problem$'
done

# allowed arrows stay allowed
fresh
plant cli/cmd-ls.c '#include "hostcfg/hostcfg.h"'
plant host/vfio.c '#include "core/plan.h"'
plant hostcfg/hostcfg.c '#include "host/ctx.h"'
plant core/plan.c '#include "util/strv.h"'
plant host/runner.c '#include <stdio.h>'
expect_rc 0 "cli/ -> hostcfg/, host/ -> core/, hostcfg/ -> host/, core/ -> util/ pass" "$CL" "$T/t"

# unqualified and malformed includes
fresh
plant core/rom.c '#include "plan.h"'
expect_rc 1 "an unqualified include fails" "$CL" "$T/t"
contains "... naming the file, the line and the qualified name" "$T/out" "^$at: unqualified include \"plan.h\".*\"core/plan.h\""
fresh
plant cli/main.c '#include "foo/bar.h"'
expect_rc 1 "an include from no layer folder fails" "$CL" "$T/t"
contains "... at $at" "$T/out" "^$at: include \"foo/bar.h\" is not LAYER/NAME"
fresh
plant cli/main.c '#include "../util/log.h"'
expect_rc 1 "a relative include fails" "$CL" "$T/t"
contains "... at $at" "$T/out" "^$at: "

# files outside the layer folders
fresh
: >"$T/t/launcher/stray.c"
mkdir "$T/t/launcher/extra" && : >"$T/t/launcher/extra/x.h"
expect_rc 1 "sources outside the layer folders fail" "$CL" "$T/t"
contains "... launcher/stray.c" "$T/out" '^launcher/stray\.c: not in a layer folder'
contains "... launcher/extra/x.h" "$T/out" '^launcher/extra/x\.h: not in a layer folder'

# the module map: every file named, every name a file
fresh
: >"$T/t/launcher/core/new.c"
expect_rc 1 "a file missing from launcher/README.md fails" "$CL" "$T/t"
contains "... naming it" "$T/out" '^launcher/core/new\.c: missing from launcher/README\.md'
fresh
grep -v 'util/json\.h' "$GPURUN_TOP/launcher/README.md" >"$T/t/launcher/README.md"
expect_rc 1 "a file whose line was dropped fails" "$CL" "$T/t"
contains "... both of its files" "$T/out" '^launcher/util/json\.c: missing from'
contains "... (the header too)" "$T/out" '^launcher/util/json\.h: missing from'
fresh
echo '- `host/gone.c` — removed long ago' >>"$T/t/launcher/README.md"
expect_rc 1 "a name without a file fails" "$CL" "$T/t"
contains "... at its README line" "$T/out" "^launcher/README\\.md:$(wc -l <"$T/t/launcher/README.md" | tr -d ' '): \"host/gone\\.c\" is named here but there is no launcher/host/gone\\.c"
fresh
echo '- `host/soon.h` `host/soon.c` — (pending) arrives with another branch; see `host/ctx.c`' >>"$T/t/launcher/README.md"
expect_rc 0 "a (pending) line may name missing files" "$CL" "$T/t"
: >"$T/t/launcher/host/soon.c"
expect_rc 0 "... also when one of them arrived" "$CL" "$T/t"
: >"$T/t/launcher/host/soon.h"
expect_rc 1 "... but when all exist the mark must go" "$CL" "$T/t"
contains "... at its README line" "$T/out" "^launcher/README\\.md:[0-9]+: every file named on this line exists: drop its \"\\(pending\\)\" mark"
rm "$T/t/launcher/README.md"
expect_rc 1 "a missing launcher/README.md fails" "$CL" "$T/t"
contains "... saying so" "$T/out" '^launcher/README\.md: missing'

# usage
expect_rc 2 "a directory without launcher/ is a usage error" "$CL" "$T/nowhere"
expect_rc 2 "an unknown option is a usage error" "$CL" --bogus
expect_rc 0 "--help" "$CL" --help
contains "... describes the rules" "$T/out" 'core/ includes core/ and util/ only'
done_testing
