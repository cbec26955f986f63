#!/usr/bin/env bash
# Create or bring up to date a venv of the project's: make-venv.sh DIR PYTHON REQUIREMENTS
#   DIR           the venv (.venv, .cache/venvs/NAME)
#   PYTHON        the interpreter's version (3.11, 3.12): the machine's python3 when it is
#                 that version, else pyenv's (where the machines keep newer Pythons)
#   REQUIREMENTS  a pinned requirements file of requirements/
# Nothing is done when the venv was made from the same requirements (their content, with
# the files they include, is kept as a stamp in the venv), so a re-run takes no time.
set -euo pipefail
venv=${1:?usage: make-venv.sh DIR PYTHON REQUIREMENTS}
version=${2:?usage: make-venv.sh DIR PYTHON REQUIREMENTS}
requirements=${3:?usage: make-venv.sh DIR PYTHON REQUIREMENTS}

# The requirements with the files they include (-r), as one text: the stamp.
expand() {
  local file=$1 dir line
  dir=$(dirname "$file")
  while IFS= read -r line; do
    case $line in
      "-r "*) expand "$dir/${line#-r }" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < "$file"
}
wanted=$(expand "$requirements")
stamp=$venv/.requirements-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

python=
for candidate in "python$version" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version"; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$version" ]; then
    python=$(command -v "$candidate")
    break
  fi
done
if [ -z "$python" ]; then
  echo "make-venv: Python $version not found (python$version on PATH, or under pyenv); $venv needs it" >&2
  exit 1
fi
echo "==> $venv: Python $version, $requirements (a minute or more the first time)"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$requirements"
printf '%s\n' "$wanted" > "$stamp"
