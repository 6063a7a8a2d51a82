// HubSpot's standard objects that associations link to (contacts 0-1, companies 0-2, deals 0-3,
// tickets 0-5), with a few of their properties, and the association types HubSpot defines between
// them. Custom objects come from the schemas API; these exist in every portal and are addressed by
// name (plural or singular) or id, never listed by /crm/v3/schemas.
import type { ObjectSchemaEgg, PropertyDef } from './types.js';

export interface StandardObject {
  objectTypeId: string;
  egg: ObjectSchemaEgg;
}

/** A selection of HubSpot's industry options; the real list is longer. */
const INDUSTRIES = [
  'ACCOUNTING', 'BANKING', 'COMPUTER_SOFTWARE', 'CONSTRUCTION', 'FINANCIAL_SERVICES',
  'INFORMATION_TECHNOLOGY_AND_SERVICES', 'INTERNET', 'RETAIL', 'TELECOMMUNICATIONS', 'WHOLESALE',
];

/** One standard object: its id, names and display property, with the properties listed. */
function standard(objectTypeId: string, name: string, singular: string, plural: string, properties: PropertyDef[]): StandardObject {
  return {
    objectTypeId,
    egg: { name, labels: { singular, plural }, requiredProperties: [], associatedObjects: [], primaryDisplayProperty: properties[0].name, properties },
  };
}

export const STANDARD_OBJECTS: StandardObject[] = [
  standard('0-1', 'contacts', 'Contact', 'Contacts', [
    // HubSpot keeps one contact per email, matched without regard to case.
    { name: 'email', label: 'Email', type: 'string', fieldType: 'text', hasUniqueValue: true, format: 'email' },
    { name: 'firstname', label: 'First Name', type: 'string', fieldType: 'text' },
    { name: 'lastname', label: 'Last Name', type: 'string', fieldType: 'text' },
  ]),
  standard('0-2', 'companies', 'Company', 'Companies', [
    { name: 'name', label: 'Company name', type: 'string', fieldType: 'text' },
    // Not a unique-value property: two companies may share a domain, so it cannot be an idProperty.
    { name: 'domain', label: 'Company Domain Name', type: 'string', fieldType: 'text' },
    {
      name: 'industry', label: 'Industry', type: 'enumeration', fieldType: 'select',
      options: INDUSTRIES.map((value, displayOrder) => ({ label: value, value, displayOrder })),
    },
  ]),
  standard('0-3', 'deals', 'Deal', 'Deals', [
    { name: 'dealname', label: 'Deal Name', type: 'string', fieldType: 'text' },
    { name: 'amount', label: 'Amount', type: 'number', fieldType: 'number' },
    { name: 'dealstage', label: 'Deal Stage', type: 'string', fieldType: 'text' },
  ]),
  standard('0-5', 'tickets', 'Ticket', 'Tickets', [
    { name: 'subject', label: 'Ticket name', type: 'string', fieldType: 'text' },
    { name: 'content', label: 'Ticket description', type: 'string', fieldType: 'textarea' },
  ]),
];

/**
 * The association types HubSpot defines between standard objects (HUBSPOT_DEFINED; ids as in
 * @hubspot/api-client's AssociationTypes enum). Each entry is one direction; `inverse` names the
 * type HubSpot records the other way. `primary` marks the "Primary" label.
 */
export interface StandardAssociationType {
  from: string;
  to: string;
  typeId: number;
  inverse: number;
  name: string;
  primary?: boolean;
}

export const STANDARD_ASSOCIATION_TYPES: StandardAssociationType[] = [
  { from: '0-1', to: '0-2', typeId: 279, inverse: 280, name: 'contact_to_company_unlabeled' },
  { from: '0-1', to: '0-2', typeId: 1, inverse: 2, name: 'contact_to_company', primary: true },
  { from: '0-2', to: '0-1', typeId: 280, inverse: 279, name: 'company_to_contact_unlabeled' },
  { from: '0-2', to: '0-1', typeId: 2, inverse: 1, name: 'company_to_contact', primary: true },
  { from: '0-3', to: '0-1', typeId: 3, inverse: 4, name: 'deal_to_contact' },
  { from: '0-1', to: '0-3', typeId: 4, inverse: 3, name: 'contact_to_deal' },
  { from: '0-3', to: '0-2', typeId: 341, inverse: 342, name: 'deal_to_company_unlabeled' },
  { from: '0-3', to: '0-2', typeId: 5, inverse: 6, name: 'deal_to_company', primary: true },
  { from: '0-2', to: '0-3', typeId: 342, inverse: 341, name: 'company_to_deal_unlabeled' },
  { from: '0-2', to: '0-3', typeId: 6, inverse: 5, name: 'company_to_deal', primary: true },
  { from: '0-1', to: '0-5', typeId: 15, inverse: 16, name: 'contact_to_ticket' },
  { from: '0-5', to: '0-1', typeId: 16, inverse: 15, name: 'ticket_to_contact' },
  { from: '0-2', to: '0-5', typeId: 340, inverse: 339, name: 'company_to_ticket_unlabeled' },
  { from: '0-2', to: '0-5', typeId: 25, inverse: 26, name: 'company_to_ticket', primary: true },
  { from: '0-5', to: '0-2', typeId: 339, inverse: 340, name: 'ticket_to_company_unlabeled' },
  { from: '0-5', to: '0-2', typeId: 26, inverse: 25, name: 'ticket_to_company', primary: true },
  { from: '0-3', to: '0-5', typeId: 27, inverse: 28, name: 'deal_to_ticket' },
  { from: '0-5', to: '0-3', typeId: 28, inverse: 27, name: 'ticket_to_deal' },
  { from: '0-1', to: '0-1', typeId: 449, inverse: 449, name: 'contact_to_contact' },
  { from: '0-2', to: '0-2', typeId: 450, inverse: 450, name: 'company_to_company' },
  { from: '0-3', to: '0-3', typeId: 451, inverse: 451, name: 'deal_to_deal' },
  { from: '0-5', to: '0-5', typeId: 452, inverse: 452, name: 'ticket_to_ticket' },
];
