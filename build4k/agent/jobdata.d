build4k/agent/jobdata.o: agent/jobdata.c agent/jobdata.h agent/buf.h \
 agent/util.h agent/xmem.h
agent/jobdata.h:
agent/buf.h:
agent/util.h:
agent/xmem.h:
