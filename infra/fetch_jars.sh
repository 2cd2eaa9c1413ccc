#!/usr/bin/env bash
# Fetch runtime jars for the local stack from Maven Central into .infra/libs/<component>/.
# Idempotent: a component whose .done marker matches its pom is skipped. Usage: infra/fetch_jars.sh [component...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MDEP=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
# The .done marker holds a hash of the component's pom: a pom that changed (a jar added, a version
# moved) is fetched again on a machine that fetched the old one.
fetch() {  # $1 = component (dir under infra/poms)
  local out="$ROOT/.infra/libs/$1" sum
  sum="$(sha256sum < "$ROOT/infra/poms/$1/pom.xml" | cut -c1-16)"
  if [ -f "$out/.done" ] && [ "$(cat "$out/.done")" = "$sum" ]; then echo "fetch_jars: $1 already fetched"; return; fi
  echo "fetch_jars: fetching $1 ..."
  rm -rf "$out"; mkdir -p "$out"
  mvn -B -q -Dstyle.color=never -f "$ROOT/infra/poms/$1/pom.xml" "$MDEP:copy-dependencies" \
      -DoutputDirectory="$out" -DincludeScope=runtime
  echo "$sum" > "$out/.done"
  echo "fetch_jars: $1 -> $(ls "$out" | wc -l) jars, $(du -sh "$out" | cut -f1)"
}
# dbz-agent: 1-class java agent (source in infra/conf/debezium/loopback-agent) that makes the
# connector's Jetty HTTP server bind 127.0.0.1 instead of 0.0.0.0. Compiled against the ASM inside
# the connector fat jar; rebuilt when its source changes.
build_agent() {
  local src="$ROOT/infra/conf/debezium/loopback-agent" out="$ROOT/.infra/libs/dbz-agent"
  local jdk="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/bin" sum
  sum="$(cat "$src"/MANIFEST.MF "$src"/local/podium/*.java | sha256sum | cut -c1-16)"
  if [ -f "$out/.done" ] && [ "$(cat "$out/.done")" = "$sum" ]; then echo "fetch_jars: dbz-agent already built"; return; fi
  fetch dbz-cassandra
  rm -rf "$out"; mkdir -p "$out/classes"
  "$jdk/javac" -nowarn --release 17 -cp "$ROOT/.infra/libs/dbz-cassandra/*" -d "$out/classes" "$src"/local/podium/*.java
  "$jdk/jar" --create --file "$out/loopback-agent.jar" --manifest "$src/MANIFEST.MF" -C "$out/classes" .
  rm -rf "$out/classes"
  echo "$sum" > "$out/.done"
  echo "fetch_jars: dbz-agent -> $out/loopback-agent.jar"
}
if [ $# -eq 0 ]; then set -- kafka cassandra dbz-cassandra dbz-agent; fi
for c in "$@"; do
  if [ "$c" = dbz-agent ]; then build_agent; else fetch "$c"; fi
done
