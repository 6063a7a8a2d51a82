// jsforce is loaded on first use, and only its core (connection, OAuth2): a HubSpot run never pays
// for it, and the API modules we do not use (metadata, SOAP, streaming…) are never loaded.
import type { Connection, OAuth2 } from 'jsforce/lib/core.js';

export interface JsforceModule {
  Connection: typeof Connection;
  OAuth2: typeof OAuth2;
}
export type JsforceConnection = Connection;

let loading: Promise<JsforceModule> | undefined;

export function loadJsforce(): Promise<JsforceModule> {
  loading ??= import('jsforce/lib/core.js').then(({ Connection, OAuth2 }) => ({ Connection, OAuth2 }));
  return loading;
}
