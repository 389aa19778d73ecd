// Preloaded into dynalite. dynalite throws from a request's 'error' handler
// when a client aborts a request in flight ("aborted", ECONNRESET), which
// kills the whole server; DynamoDB itself shrugs a cancelled request off.
// The store cancels the other layers' queries of a resolve when one fails,
// so tests that make one fail need the server to survive the others.
'use strict';
process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    return;
  }
  console.error(err);
  process.exit(1);
});
