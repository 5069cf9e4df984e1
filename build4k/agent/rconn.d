build4k/agent/rconn.o: agent/rconn.c agent/rconn.h agent/config.h \
 agent/arena.h agent/log.h agent/rcluster.h agent/tls.h agent/sentinel.h \
 agent/util.h agent/xmem.h
agent/rconn.h:
agent/config.h:
agent/arena.h:
agent/log.h:
agent/rcluster.h:
agent/tls.h:
agent/sentinel.h:
agent/util.h:
agent/xmem.h:
