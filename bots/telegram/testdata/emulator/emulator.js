// Starts the third-party Bot API emulator telegram-test-api on
// 127.0.0.1:PORT for the optional Go test in emulator_test.go. It prints
// READY once listening and stops when its standard input closes.
'use strict';
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2]);
if (!port) {
  process.stderr.write('usage: node emulator.js PORT\n');
  process.exit(2);
}
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
server.start().then(() => process.stdout.write('READY\n'), (err) => {
  process.stderr.write(`cannot start: ${err}\n`);
  process.exit(1);
});
process.stdin.resume();
process.stdin.on('end', () => {
  server.stop().finally(() => process.exit(0));
});
