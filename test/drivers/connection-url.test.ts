import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { redactUrl } from '../../src/drivers/connection-url.ts';
import { openJobBoard } from '../../src/jobs/open-job-board.ts';
import { openRunStore } from '../../src/persistence/open-run-store.ts';

// Characters that confuse URL parsing, percent signs, and letters outside ASCII.
const PASSWORD_CHARS = [...'@/:#?%&=+ ', ...'aZ9_-.~', 'é', 'ß', '中', '😀'];
const password = fc
  .array(fc.constantFrom(...PASSWORD_CHARS), { minLength: 1, maxLength: 24 })
  .map((chars) => chars.join(''));

/** The only two ways a redacted `postgres://app:<password>@db.example:5432/app` may read. */
const SAFE = new Set([
  'postgres://app:***@db.example:5432/app',
  'postgres://***@db.example:5432/app',
]);

describe('redactUrl', () => {
  it('keeps user, host and path and hides the password, even one holding @ or /', () => {
    assert.equal(redactUrl('postgres://u:p@ss@host/db'), 'postgres://u:***@host/db');
    assert.equal(redactUrl('postgres://u:pa/ss@host/db'), 'postgres://u:***@host/db');
    assert.equal(redactUrl('postgres://u:12/ss@host/db'), 'postgres://u:***@host/db');
    assert.equal(redactUrl('postgres://u:p#s?x@host:5432/db'), 'postgres://u:***@host:5432/db');
    assert.equal(redactUrl('postgres://a@b:c@host/db'), 'postgres://a%40b:***@host/db');
    assert.equal(redactUrl('postgres://u:secret@[bad'), 'postgres://u:***@[bad');
    assert.equal(redactUrl('redis://:secret@127.0.0.1:6379/0'), 'redis://:***@127.0.0.1:6379/0');
    assert.equal(
      redactUrl('postgres://host/db?password=x&a=1'),
      'postgres://host/db?password=***&a=1',
    );
    assert.equal(redactUrl('postgres://u@host/db'), 'postgres://u@host/db');
    assert.equal(redactUrl('sqlite:///var/lib/runs.db'), 'sqlite:///var/lib/runs.db');
  });

  it('never shows any part of a generated password', () => {
    fc.assert(
      fc.property(password, fc.boolean(), (secret, encoded) => {
        const text = encoded ? encodeURIComponent(secret) : secret;
        const redacted = redactUrl(`postgres://app:${text}@db.example:5432/app`);
        assert.ok(SAFE.has(redacted), `${JSON.stringify(text)} gave ${JSON.stringify(redacted)}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the URL openers', () => {
  for (const [name, open] of [
    ['openRunStore', (url: string) => openRunStore(url)],
    ['openJobBoard', (url: string) => openJobBoard(url)],
  ] as const) {
    it(`${name} says a URL cannot be parsed without showing its password`, async () => {
      await assert.rejects(open('postgres://u:pa/ss@host/db'), (error: Error) => {
        assert.match(error.message, /cannot be parsed/);
        assert.match(error.message, /"postgres:\/\/u:\*\*\*@host\/db"/);
        assert.doesNotMatch(error.message, /pa\/ss|u:pa|\/ss/);
        return true;
      });
    });

    it(`${name} never shows any part of a generated password in its error`, async () => {
      await fc.assert(
        fc.asyncProperty(password, async (secret) => {
          const url = `mysql://app:${secret}@db.example:5432/app`;
          await assert.rejects(open(url), (error: Error) => {
            const shown = /URL "([^"]*)"/.exec(error.message)?.[1];
            assert.ok(
              shown === 'mysql://app:***@db.example:5432/app' ||
                shown === 'mysql://***@db.example:5432/app',
              `${JSON.stringify(secret)} gave ${error.message}`,
            );
            return true;
          });
        }),
        { numRuns: 300 },
      );
    });

    it(`${name} names an unsupported scheme without showing the password`, async () => {
      await assert.rejects(open('mysql://u:p@ss@host/db'), (error: Error) => {
        assert.match(error.message, /unsupported scheme "mysql:"/);
        assert.doesNotMatch(error.message, /p@ss|ss@/);
        return true;
      });
    });
  }
});
