// The create journal's cases (insert-journal.ts) against HubSpot.
import { hubspot, insertJournalTests } from './insert-journal.ts';

insertJournalTests('HubSpot', hubspot);
