build4k/agent/opts.o: agent/opts.c agent/opts.h agent/xmem.h
agent/opts.h:
agent/xmem.h:
