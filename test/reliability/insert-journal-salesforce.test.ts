// The create journal's cases (insert-journal.ts) against Salesforce.
import { salesforce, insertJournalTests } from './insert-journal.ts';

insertJournalTests('Salesforce', salesforce);
