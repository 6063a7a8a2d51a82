// The test server the shared-store tests run against starts from the installed packages alone.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../support/postgres.ts';

const postgres = usePostgres();

describe('the test PostgreSQL server', () => {
  it('accepts the superuser with its password and refuses a wrong one', async () => {
    const client = new pg.Client({ connectionString: postgres().url() });
    await client.connect();
    const { rows } = await client.query<{ answer: number }>('SELECT 6 * 7 AS answer');
    await client.end();
    expect(rows).toEqual([{ answer: 42 }]);
    const wrong = new pg.Client({ connectionString: postgres().url({ password: 'wrong' }) });
    await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
  });
});
