#!/usr/bin/env node
// The `taskflow` program. All it does is hand the command line to runCli; see docs/cli.md.
import { runCli } from './cli.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  // A terminal that cannot move the cursor gets the plain lines.
  ...(process.stdout.isTTY && process.env.TERM !== 'dumb' ? { terminal: process.stdout } : {}),
});
