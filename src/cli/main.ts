// `houqin <command>`: serve (the service), parse (messages → intents). Each command lives in its own file
// and is imported lazily so `houqin parse` starts without loading Koa or BullMQ.
const [command, ...args] = process.argv.slice(2);

const usage = `usage: houqin <command>
  serve                 run the service (npm start)
  parse [--jsonl]       read messages on stdin, print one JSON intent per line
  outbox list|replay    show or re-send outgoing messages that failed for good
  jobs list|run NAME    scheduled jobs: list with next firing, or run one now [--date YYYY-MM-DD]
  digest                the director's digest as text [--period day|week|month] [--date YYYY-MM-DD]
  export --month YYYY-MM  the month's ledger (台账) as Excel [--out FILE.xlsx]
  export --district --month YYYY-MM | --week YYYY-MM-DD  a district folder's workbook: 区域汇总 + a sheet per site
  unread [--json]       messages the bot could not read (未识别), with the words it did not know
  inbox unknown [--json]  people not on the roster who wrote (名册外): count, when, last texts

In a district (HOUQIN_CONFIG names a folder), jobs, digest, export --month, unread and inbox take --site ID;
outbox lists every site's failures unless given --site.`;

async function main(): Promise<number> {
  switch (command) {
    case 'serve': {
      const { serveCommand } = await import('./serve.js');
      return serveCommand(args);
    }
    case 'parse': {
      const { parseCommand } = await import('./parse.js');
      return parseCommand(args, process.stdin, process.stdout, process.env);
    }
    case 'outbox': {
      const { outboxCommand } = await import('./outbox.js');
      return outboxCommand(args, process.env);
    }
    case 'jobs': {
      const { jobsCommand } = await import('./jobs.js');
      return jobsCommand(args, process.env);
    }
    case 'digest': {
      const { digestCommand } = await import('./digest.js');
      return digestCommand(args, process.env);
    }
    case 'unread': {
      const { unreadCommand } = await import('./unread.js');
      return unreadCommand(args, process.env, process.stdout);
    }
    case 'inbox': {
      const { inboxCommand } = await import('./inbox.js');
      return inboxCommand(args, process.env, process.stdout);
    }
    case 'export': {
      const { exportCommand } = await import('./export.js');
      return exportCommand(args, process.env);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(usage + '\n');
      return command ? 0 : 2;
    default:
      process.stderr.write(`unknown command "${command}"\n${usage}\n`);
      return 2;
  }
}

main().then(
  (code) => {
    // serve keeps running; the others set an exit code and let stdout drain.
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
