SELECT id, pid FROM actions WHERE state = 'running';
