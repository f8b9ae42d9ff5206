// Diagnostic only: the real composition root (createHouqin, the same receiver, Redis connections and queues as
// `houqin serve`), with the queue workers left off, so the request path can be measured without the inbox being
// processed in the same process. The figure that counts is `houqin serve` itself; this one explains it.
import { createHouqin } from '../../src/app.js';
import { loadSettings } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';

const log = createLogger(process.env.LOG_LEVEL || 'info');
const settings = loadSettings(process.env, process.env.HOUQIN_CONFIG || 'config/example.yaml');
const houqin = createHouqin(settings, log);
houqin.queues.startWorkers = () => {}; // the only change: no workers in this process
await houqin.start(); // logs "houqin listening on port N"
const stop = () => void houqin.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
