// What a broken middlebox does to an answer the CRM did give: the request was applied, but the
// client gets a 200 it cannot use. `html` is a proxy's or captive portal's page, `truncated` the
// real answer cut off halfway (a connection closed early by a proxy that still said 200),
// `wrong-shape` valid JSON that is not the answer asked for (an edge's status object).
export type GarbledBody = 'html' | 'truncated' | 'wrong-shape';

export interface GarbledAnswer {
  status: number;
  contentType: string;
  text: string;
}

export function garbledAnswer(kind: GarbledBody, status: number, answerText: string): GarbledAnswer {
  const ok = status >= 200 && status < 300 ? status : 200;
  switch (kind) {
    case 'html':
      return { status: 200, contentType: 'text/html; charset=utf-8', text: '<!DOCTYPE html><html><head><title>Please wait</title></head><body><h1>Checking your connection…</h1></body></html>' };
    case 'truncated':
      return { status: ok, contentType: 'application/json;charset=utf-8', text: answerText.slice(0, Math.max(1, Math.floor(answerText.length / 2))) };
    case 'wrong-shape':
      return { status: ok, contentType: 'application/json;charset=utf-8', text: '{"status":"ok"}' };
  }
}
