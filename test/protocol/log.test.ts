// The redactor that guards stderr, stdout and the files a run writes.
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/protocol/log.ts';

describe('Redactor', () => {
  it('masks a secret as written, JSON-escaped and URL-encoded, bearer tokens and tokens in URLs', () => {
    const redactor = new Redactor();
    const secret = 'pa"ss/word+1';
    redactor.add(secret);
    const text = [
      `raw ${secret}`,
      `json ${JSON.stringify({ secret })}`,
      `url ?p=${encodeURIComponent(secret)}`,
      'header Authorization: Bearer abcdefgh12345678',
      'query https://api.example.com/x?hapikey=k-123456&access_token=t-987654&keep=1',
      'form grant_type=refresh_token&refresh_token=r-abcdef&client_secret=s-abcdef',
    ].join('\n');
    const out = redactor.redact(text);
    for (const leaked of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), 'abcdefgh12345678', 'k-123456', 't-987654', 'r-abcdef', 's-abcdef']) {
      expect(out).not.toContain(leaked);
    }
    expect(out).toContain('keep=1');
    expect(out).toContain('grant_type=refresh_token');
  });

  it('ignores strings too short to be credentials', () => {
    const redactor = new Redactor();
    redactor.add('abc');
    expect(redactor.redact('abc abc')).toBe('abc abc');
  });
});
