// The standard objects the recorded real exchanges touch (contacts 0-1, companies 0-2), with the
// few properties those exchanges use. Custom objects come from the schemas API; these exist in
// every portal and are addressed by name or id, never listed by /crm/v3/schemas.
import type { ObjectSchemaEgg } from './types.js';

export interface StandardObject {
  objectTypeId: string;
  egg: ObjectSchemaEgg;
}

/** A selection of HubSpot's industry options; the real list is longer. */
const INDUSTRIES = [
  'ACCOUNTING', 'BANKING', 'COMPUTER_SOFTWARE', 'CONSTRUCTION', 'FINANCIAL_SERVICES',
  'INFORMATION_TECHNOLOGY_AND_SERVICES', 'INTERNET', 'RETAIL', 'TELECOMMUNICATIONS', 'WHOLESALE',
];

export const STANDARD_OBJECTS: StandardObject[] = [
  {
    objectTypeId: '0-1',
    egg: {
      name: 'contacts', labels: { singular: 'Contact', plural: 'Contacts' },
      requiredProperties: [], associatedObjects: [], primaryDisplayProperty: 'email',
      properties: [
        { name: 'email', label: 'Email', type: 'string', fieldType: 'text', hasUniqueValue: true, format: 'email' },
        { name: 'firstname', label: 'First Name', type: 'string', fieldType: 'text' },
        { name: 'lastname', label: 'Last Name', type: 'string', fieldType: 'text' },
      ],
    },
  },
  {
    objectTypeId: '0-2',
    egg: {
      name: 'companies', labels: { singular: 'Company', plural: 'Companies' },
      requiredProperties: [], associatedObjects: [], primaryDisplayProperty: 'name',
      properties: [
        { name: 'name', label: 'Company name', type: 'string', fieldType: 'text' },
        { name: 'domain', label: 'Company Domain Name', type: 'string', fieldType: 'text' },
        {
          name: 'industry', label: 'Industry', type: 'enumeration', fieldType: 'select',
          options: INDUSTRIES.map((value, displayOrder) => ({ label: value, value, displayOrder })),
        },
      ],
    },
  },
];
