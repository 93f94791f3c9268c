# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: run test bench lint catalogues

DAYS ?= 30
OUT ?= runs/first

run:
	@scripts/bootstrap.sh
	.venv/bin/gridloop run dongcheng --days $(DAYS) --out $(OUT) --force

test:
	@scripts/bootstrap.sh dev
	scripts/test.sh

bench:
	@scripts/bootstrap.sh dev
	.venv/bin/python -m pytest benchmarks -p no:cacheprovider --benchmark-enable -s -o addopts=""

lint:
	@scripts/bootstrap.sh dev
	.venv/bin/ruff check sim agents training tests benchmarks notebooks

catalogues:             # after changing user-facing text: new messages into the .po files
	@scripts/bootstrap.sh dev
	scripts/catalogues.sh
