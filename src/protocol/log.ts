// Human-facing diagnostics go to stderr, never stdout. Every line passes through the redactor so
// a secret from the config can never be printed, whatever error text embeds it. The same redactor
// guards stdout and the files a run writes (report, rejected rows).
import type { Writable } from 'node:stream';

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Credentials some APIs take in a query string or a form body (hapikey=…, access_token=…). */
const TOKEN_IN_URL = /\b((?:access_token|refresh_token|client_secret|hapikey|api_key|apikey|token)=)[^&\s"'<>]+/gi;
const LEVEL_RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class Redactor {
  private readonly secrets: string[] = [];

  add(secret: string | undefined): void {
    // Very short strings would redact ordinary words; no real credential is that short.
    if (!secret || secret.length < 6) return;
    // Also as it appears inside JSON text and in a URL.
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
      if (!this.secrets.includes(form)) this.secrets.push(form);
    }
    this.secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out
      .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1***')
      .replace(TOKEN_IN_URL, '$1***');
  }
}

export class Logger {
  constructor(
    private readonly stream: Writable,
    readonly redactor: Redactor = new Redactor(),
    private readonly minLevel: Level = 'info',
  ) {}

  debug(message: string): void { this.write('debug', message); }
  info(message: string): void { this.write('info', message); }
  warn(message: string): void { this.write('warn', message); }
  error(message: string): void { this.write('error', message); }

  private write(level: Level, message: string): void {
    if (LEVEL_RANK[level] < LEVEL_RANK[this.minLevel]) return;
    const prefix = level === 'info' ? '' : `${level.toUpperCase()} `;
    this.stream.write(`crm-activate: ${prefix}${this.redactor.redact(message)}\n`);
  }
}
