// Real replicated Redis topologies for failover tests, each on free ports with its own folders and AOF:
// a 6-node Cluster (redis-cluster.ts) and a Sentinel group (redis-sentinel.ts). Servers are plain processes
// (redis-process.ts), killed with SIGKILL to fail a master, and all removed by stop() or when the test process exits.
export { startCluster, type TestCluster } from './redis-cluster.js';
export { MASTER_NAME, startSentinel, type TestSentinel } from './redis-sentinel.js';
export { sleep, until } from './redis-process.js';
