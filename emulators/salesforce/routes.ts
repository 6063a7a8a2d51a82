// The API resources under /services/data/vXX.X/, by path pattern and method.
import type { BulkIngest } from './bulk2.js';
import { createRecords, deleteRecords, updateRecords, upsertRecords } from './collections.js';
import type { EmulatorContext } from './context.js';
import { describeGlobal, describeObject, globalEntry } from './describe.js';
import { ApiError, notFound } from './errors.js';
import { type ApiRequest, jsonReply, type Reply } from './http.js';
import type { ApiUsage } from './limits.js';
import type { ObjectMeta } from './org.js';
import type { QueryService } from './query.js';

type Handler = (request: ApiRequest) => Reply;

interface Route {
  /** Literal segments, or ':name' for a parameter. */
  pattern: string[];
  methods: Partial<Record<string, Handler>>;
}

export interface Services {
  context: EmulatorContext;
  usage: ApiUsage;
  queries: QueryService;
  bulk: BulkIngest;
}

function objectNamed(context: EmulatorContext, name: string): ObjectMeta {
  const meta = context.org.findObject(name);
  if (!meta) throw notFound();
  return meta;
}

function resourceList(dataPath: string): Record<string, string> {
  const names = ['sobjects', 'query', 'limits', 'composite'];
  return { ...Object.fromEntries(names.map((n) => [n, `${dataPath}/${n}`])), jobs: `${dataPath}/jobs` };
}

export function buildRoutes({ context, usage, queries, bulk }: Services): Route[] {
  const { dataPath } = context;
  return [
    { pattern: [], methods: { GET: () => jsonReply(200, resourceList(dataPath)) } },
    { pattern: ['limits'], methods: { GET: () => jsonReply(200, usage.limitsBody()) } },
    { pattern: ['sobjects'], methods: { GET: () => jsonReply(200, describeGlobal(dataPath, context.org.allObjects())) } },
    {
      pattern: ['sobjects', ':object'],
      methods: { GET: (r) => jsonReply(200, { objectDescribe: globalEntry(dataPath, objectNamed(context, r.params.object)), recentItems: [] }) },
    },
    {
      pattern: ['sobjects', ':object', 'describe'],
      methods: {
        GET: (r) => {
          const meta = objectNamed(context, r.params.object);
          return jsonReply(200, describeObject(dataPath, meta, context.org.referencesTo(meta)));
        },
      },
    },
    { pattern: ['query'], methods: { GET: (r) => queries.query(r) } },
    { pattern: ['query', ':locator'], methods: { GET: (r) => queries.queryMore(r) } },
    {
      pattern: ['composite', 'sobjects'],
      methods: { POST: (r) => createRecords(context, r), PATCH: (r) => updateRecords(context, r), DELETE: (r) => deleteRecords(context, r) },
    },
    { pattern: ['composite', 'sobjects', ':object', ':field'], methods: { PATCH: (r) => upsertRecords(context, r) } },
    { pattern: ['jobs', 'ingest'], methods: { POST: (r) => bulk.create(r), GET: () => bulk.list() } },
    {
      pattern: ['jobs', 'ingest', ':jobId'],
      methods: { GET: (r) => bulk.get(r), PATCH: (r) => bulk.changeState(r), DELETE: (r) => bulk.delete(r) },
    },
    { pattern: ['jobs', 'ingest', ':jobId', 'batches'], methods: { PUT: (r) => bulk.upload(r) } },
    { pattern: ['jobs', 'ingest', ':jobId', 'successfulResults'], methods: { GET: (r) => bulk.results(r, 'successfulCsv') } },
    { pattern: ['jobs', 'ingest', ':jobId', 'failedResults'], methods: { GET: (r) => bulk.results(r, 'failedCsv') } },
    { pattern: ['jobs', 'ingest', ':jobId', 'unprocessedrecords'], methods: { GET: (r) => bulk.results(r, 'unprocessedCsv') } },
  ];
}

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(segments[i]);
    else if (part !== segments[i]) return undefined;
  }
  return params;
}

/** Finds the handler for the request; 404 for an unknown resource, 405 for a method it lacks. */
export function dispatch(routes: Route[], request: ApiRequest): Reply {
  for (const route of routes) {
    const params = matchPattern(route.pattern, request.segments);
    if (!params) continue;
    const handler = route.methods[request.method];
    if (!handler) {
      const allowed = Object.keys(route.methods).join(',');
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${request.method}' not allowed. Allowed are ${allowed}`);
    }
    return handler({ ...request, params });
  }
  throw notFound();
}
