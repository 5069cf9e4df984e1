build4k/agent/rcluster.o: agent/rcluster.c agent/rcluster.h \
 agent/config.h agent/buf.h agent/cluster.h agent/log.h agent/rconn.h \
 agent/xmem.h
agent/rcluster.h:
agent/config.h:
agent/buf.h:
agent/cluster.h:
agent/log.h:
agent/rconn.h:
agent/xmem.h:
