build4k/agent/signature.o: agent/signature.c agent/signature.h \
 agent/buf.h
agent/signature.h:
agent/buf.h:
