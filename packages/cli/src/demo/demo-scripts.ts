/** The demo repository's build: progress over about two seconds, then `out/app.txt`. */
export const BUILD_SCRIPT = `#!/bin/sh
# The demo build: a few progress lines, then the artifact.
set -e
echo "building demo $(cat VERSION) (MODE=\${MODE:-debug})"
for part in parser cache scheduler linker; do
  echo "  compiling $part"
  sleep 0.5
done
mkdir -p out
echo "demo $(cat VERSION), built in mode \${MODE:-debug}" > out/app.txt
echo "wrote out/app.txt ($(wc -c < out/app.txt) bytes)"
`;

/** The demo repository's tests: \`./test.sh unit\` or \`./test.sh integration\`. */
export const TEST_SCRIPT = `#!/bin/sh
# The demo tests: some lines on stdout, a warning on stderr, a second or two of work.
set -e
suite="\${1:?usage: test.sh unit|integration}"
case "$suite" in
  unit) cases=6 pace=0.25 ;;
  integration) cases=3 pace=0.5 ;;
  *) echo "unknown suite: $suite" >&2; exit 2 ;;
esac
echo "running $cases $suite tests"
echo "warning: the $suite tests run without a fixture cache in the demo" >&2
i=1
while [ "$i" -le "$cases" ]; do
  sleep "$pace"
  echo "  ok $i - $suite case $i"
  i=$((i + 1))
done
echo "$suite: $cases passed"
`;

export const README = `# demo

A tiny project made by \`switchyard demo\`: \`build.sh\` builds it, \`test.sh unit|integration\` tests it.
`;
