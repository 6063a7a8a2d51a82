// OAuth 2.0 token endpoint (client credentials, refresh token, JWT bearer) and the bearer-token check
// every API call goes through.
import { createHmac, randomBytes, verify } from 'node:crypto';
import { ApiError } from './errors.js';
import type { OAuthClient } from './types.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PUBLIC_LOGIN_HOSTS = ['https://login.salesforce.com', 'https://test.salesforce.com'];

interface IssuedToken {
  expiresAt: number;
}

export interface TokenAnswer {
  status: number;
  body: Record<string, string>;
}

class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

function decodeSegment(segment: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new OAuthError('invalid_grant', 'invalid assertion');
  }
}

function basicCredentials(authorization: string | undefined): { id?: string; secret?: string } {
  const match = /^Basic\s+(.+)$/i.exec(authorization ?? '');
  if (!match) return {};
  const [id, secret] = Buffer.from(match[1], 'base64').toString('utf8').split(':');
  return { id, secret };
}

export interface AuthSettings {
  clients: OAuthClient[];
  ttlSeconds: number;
  orgId: string;
  userId: string;
  baseUrl: () => string;
}

export class Auth {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(private readonly settings: AuthSettings) {}

  issueAccessToken(): string {
    const token = `${this.settings.orgId.slice(0, 15)}!${randomBytes(48).toString('base64url')}`;
    this.tokens.set(token, { expiresAt: Date.now() + this.settings.ttlSeconds * 1000 });
    return token;
  }

  expireAll(): void {
    this.tokens.clear();
  }

  /** Throws INVALID_SESSION_ID unless the Authorization header carries a live token. */
  verifyBearer(authorization: string | undefined): void {
    const token = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const issued = token ? this.tokens.get(token) : undefined;
    if (!issued || issued.expiresAt <= Date.now()) {
      throw new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    }
  }

  /** POST /services/oauth2/token with its form fields. */
  tokenRequest(form: URLSearchParams, authorization: string | undefined): TokenAnswer {
    try {
      const client = this.grant(form, authorization);
      return { status: 200, body: this.tokenBody(client) };
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return { status: 400, body: { error: error.error, error_description: error.description } };
    }
  }

  private grant(form: URLSearchParams, authorization: string | undefined): OAuthClient {
    const grantType = form.get('grant_type');
    if (grantType === 'client_credentials') return this.clientCredentials(form, authorization);
    if (grantType === 'refresh_token') return this.refreshToken(form, authorization);
    if (grantType === JWT_BEARER) return this.jwtBearer(form.get('assertion') ?? '');
    throw new OAuthError('unsupported_grant_type', 'grant type not supported');
  }

  private client(clientId: string | undefined | null): OAuthClient {
    const client = this.settings.clients.find((c) => c.clientId === clientId);
    if (!client) throw new OAuthError('invalid_client_id', 'client identifier invalid');
    return client;
  }

  private clientCredentials(form: URLSearchParams, authorization: string | undefined): OAuthClient {
    const basic = basicCredentials(authorization);
    const client = this.client(form.get('client_id') ?? basic.id);
    if ((form.get('client_secret') ?? basic.secret) !== client.clientSecret) {
      throw new OAuthError('invalid_client', 'invalid client credentials');
    }
    return client;
  }

  private refreshToken(form: URLSearchParams, authorization: string | undefined): OAuthClient {
    const basic = basicCredentials(authorization);
    const client = this.client(form.get('client_id') ?? basic.id);
    const secret = form.get('client_secret') ?? basic.secret;
    if (secret !== undefined && secret !== null && secret !== client.clientSecret) {
      throw new OAuthError('invalid_client', 'invalid client credentials');
    }
    if (!client.refreshToken || form.get('refresh_token') !== client.refreshToken) {
      throw new OAuthError('invalid_grant', 'expired access/refresh token');
    }
    return client;
  }

  private jwtBearer(assertion: string): OAuthClient {
    const parts = assertion.split('.');
    if (parts.length !== 3) throw new OAuthError('invalid_grant', 'invalid assertion');
    const header = decodeSegment(parts[0]);
    const claims = decodeSegment(parts[1]);
    const client = this.client(typeof claims.iss === 'string' ? claims.iss : undefined);
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signatureOk =
      header.alg === 'RS256' &&
      client.publicKeyPem !== undefined &&
      verify('RSA-SHA256', signed, client.publicKeyPem, Buffer.from(parts[2], 'base64url'));
    if (!signatureOk) throw new OAuthError('invalid_grant', 'invalid assertion');
    this.checkClaims(client, claims);
    return client;
  }

  private checkClaims(client: OAuthClient, claims: Record<string, unknown>): void {
    const audiences = [this.settings.baseUrl(), ...PUBLIC_LOGIN_HOSTS];
    const aud = typeof claims.aud === 'string' ? claims.aud.replace(/\/$/, '') : '';
    if (!audiences.includes(aud)) throw new OAuthError('invalid_grant', 'audience is invalid');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) {
      throw new OAuthError('invalid_grant', 'expired authorization code');
    }
    if (!client.username || claims.sub !== client.username) {
      throw new OAuthError('invalid_grant', "user hasn't approved this consumer");
    }
  }

  private tokenBody(client: OAuthClient): Record<string, string> {
    const { baseUrl, orgId, userId } = this.settings;
    const id = `${baseUrl()}/id/${orgId}/${userId}`;
    const issuedAt = String(Date.now());
    const signature = createHmac('sha256', client.clientSecret).update(id + issuedAt).digest('base64');
    return {
      access_token: this.issueAccessToken(),
      signature,
      scope: 'api',
      instance_url: baseUrl(),
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    };
  }
}
