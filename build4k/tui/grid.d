build4k/tui/grid.o: tui/grid.c tui/grid.h agent/buf.h agent/xmem.h
tui/grid.h:
agent/buf.h:
agent/xmem.h:
