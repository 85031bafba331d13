# Every target creates or refreshes .venv by itself, so a fresh clone needs no other step.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.berth-installed

export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: run test lint bench package package-test screenshot screenshot-streaming \
	screenshot-hand-back screenshot-network screenshot-mcp clean

TEST_STAMP := $(VENV)/.berth-test-installed

# `make run` installs the app alone: no test tools (and nothing that could keep the API key
# in a file) in what a user runs.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

run: $(STAMP)
	$(VENV)/bin/berth

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -s -p no:randomly -o python_files='bench_*.py' tests/bench

# The README's picture of the window mid-conversation (needs a Docker engine and debootstrap).
screenshot: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen PYTHONPATH=. $(PY) docs/screenshot.py docs/berth-window.png

# The README's picture of a reply halfway through streaming, its Thinking card open.
screenshot-streaming: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen PYTHONPATH=. $(PY) docs/streaming_screenshot.py docs/streaming.png

# The README's picture of the Changes tab after Hand back as branch (needs git in an image).
screenshot-hand-back: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen PYTHONPATH=. $(PY) docs/hand_back_screenshot.py docs/hand_back.png

# The README's picture of the Network tab: a denied request and its Allow this host button.
screenshot-network: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen PYTHONPATH=. $(PY) docs/network_screenshot.py docs/network_tab.png

# MCP in the window, from a real run: mcp-server-git in a container (docs/mcp_screenshot.py;
# docs/mcp_demo_screenshot.py draws the same views from fed events, no Docker).
screenshot-mcp: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen PYTHONPATH=. $(PY) docs/mcp_screenshot.py docs/mcp_card.png \
		docs/mcp_settings.png

# --- packaging (packaging/README.md) ------------------------------------------------------
VERSION        := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
DEB            := dist/berth-desktop_$(VERSION)_amd64.deb
PACKAGE_STAMP  := $(VENV)/.berth-package-installed

$(PACKAGE_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[package]'
	touch $(PACKAGE_STAMP)

# The one-folder PyInstaller bundle in dist/berth, then the .deb around it.
package: $(PACKAGE_STAMP)
	rm -rf dist/berth build/icons build/deb-root $(DEB)
	QT_QPA_PLATFORM=offscreen $(PY) packaging/render_icons.py build/icons
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/berth.spec
	$(PY) packaging/build_deb.py --bundle dist/berth --icons build/icons --out dist

# Build the .deb, lint it, install it (extracted, and with apt in a clean Debian container)
# and run the installed `berth --self-test`.
package-test: package
	PYTHON=$(PY) packaging/package_test.sh $(DEB)

clean:
	rm -rf $(VENV) build dist
