// jsforce is loaded on first use, and only its core, for OAuth2 (the token grants and Salesforce's
// error bodies): a HubSpot run never pays for it, and the API modules we do not use (metadata,
// SOAP, streaming…) are never loaded. API requests themselves go out with fetch (api.ts says why).
import type { OAuth2 } from 'jsforce/lib/core.js';

export interface JsforceModule {
  OAuth2: typeof OAuth2;
}

let loading: Promise<JsforceModule> | undefined;

export function loadJsforce(): Promise<JsforceModule> {
  loading ??= import('jsforce/lib/core.js').then(({ OAuth2 }) => ({ OAuth2 }));
  return loading;
}
