from digitnet.cli import program

raise SystemExit(program())
