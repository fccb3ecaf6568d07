/** NAICS 2022 sectors (the first two digits of a code), as city reports group industries. */
const SECTORS: Record<string, string> = {
  '11': 'Agriculture',
  '21': 'Mining',
  '22': 'Utilities',
  '23': 'Construction',
  '31': 'Manufacturing',
  '32': 'Manufacturing',
  '33': 'Manufacturing',
  '42': 'Wholesale trade',
  '44': 'Retail trade',
  '45': 'Retail trade',
  '48': 'Transportation',
  '49': 'Transportation',
  '51': 'Information',
  '52': 'Finance',
  '53': 'Real estate',
  '54': 'Professional services',
  '55': 'Management',
  '56': 'Administrative services',
  '61': 'Education',
  '62': 'Health and social care',
  '71': 'Arts and recreation',
  '72': 'Food and accommodation',
  '81': 'Other services',
  '92': 'Public administration',
};

/** The sector of a NAICS code of 2 to 6 digits ("311811" -> "Manufacturing"). */
export function sectorOf(naicsCode: string): string {
  return SECTORS[naicsCode.slice(0, 2)] ?? `NAICS ${naicsCode.slice(0, 2)}`;
}

/** A release's sector code (two NAICS digits) as a label unique per code ("Manufacturing (31)"). */
export function sectorLabel(code: string): string {
  return `${SECTORS[code] ?? 'NAICS'} (${code})`;
}
