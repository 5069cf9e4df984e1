build4k/agent/bmq.o: agent/bmq.c agent/bmq.h agent/buf.h
agent/bmq.h:
agent/buf.h:
