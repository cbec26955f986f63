#!/usr/bin/env bash
# Create or bring up to date a venv of the project's: make-venv.sh DIR PYTHON REQUIREMENTS
#   DIR           the venv (.venv, .cache/venvs/NAME)
#   PYTHON        the interpreter's version (3.11, 3.12), found by tools/find-python.sh
#   REQUIREMENTS  a pinned requirements file of requirements/
# Nothing is done when the venv was made with the same Python from the same requirements
# (the Python's version and the requirements' content, with the files they include, are
# kept as a stamp in the venv), so a re-run takes no time. Otherwise the venv is made
# anew: nothing of an older Python or of a dropped requirement stays in it.
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
      "-r "*) printf '%s\n' "$line"; expand "$dir/${line#-r }" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < "$file"
}
wanted="python $version
$(expand "$requirements")"
stamp=$venv/.requirements-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

python=$("$(dirname "$0")/find-python.sh" "$version")
echo "==> $venv: Python $version, $requirements (a minute or more the first time)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$requirements"
printf '%s\n' "$wanted" > "$stamp"
