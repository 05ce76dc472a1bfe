// Password login over HTTP: argon2id verification (CPU-bound, on libuv's thread pool), then a
// transaction (login failures cleared + an audit-log row), an EdDSA-signed access token and a
// stored refresh token. Not run on PostgreSQL: its cost is the hash, which does not depend on the
// database. A different kind of work from the searches: no ratio to the baseline, no goal.

import { expect } from './harness/config.js';
import { FORM_HEADERS } from './harness/http.js';
import { LOGIN_FORM } from './harness/plinth.js';

export default {
  name: 'login',
  targets: [
    {
      name: 'login (argon2id)',
      method: 'POST',
      path: '/user/oauth/token',
      body: LOGIN_FORM,
      headers: FORM_HEADERS,
      // argon2id keeps a core busy per hash and the machine has few: more connections only queue.
      connections: 4,
      noRatio: true,
      unit: 'logins',
      perRequest: 1,
      sqliteOnly: true,
      verify: (json) => expect(typeof json?.access_token === 'string' && json.access_token.length > 0, 'answer has no `access_token`'),
    },
  ],
};
