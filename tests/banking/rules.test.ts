/**
 * Which rule a bank line falls under (server/banking/postings.ts ruleFor): the rule's text in the
 * line's description in any case, however the bank wrote the same characters: decomposed accents
 * (e + U+0301, as files written on macOS and some banks' camt.053 have them), runs of spaces
 * (fixed-width exports pad fields), full-width letters.
 */
import { describe, expect, it } from 'vitest';
import { ruleFor } from '../../server/banking/postings.js';
import type { BankRuleRecord } from '../../server/banking/records.js';
import { Decimal } from '../../server/core/index.js';

const rule = (id: string, descriptionContains: string, direction: 'IN' | 'OUT' | 'ANY' = 'ANY') =>
  ({ id, descriptionContains, direction }) as BankRuleRecord;

const line = (description: string, amount = '-10.00') => ({ description, amount: new Decimal(amount) });

describe('ruleFor', () => {
  const rules = [rule('cafe', 'Café Müller'), rule('rent', 'rent march', 'OUT'), rule('fee', 'FEE', 'IN')];

  it("finds the rule whatever the case, the accents' encoding or the spacing", () => {
    expect(ruleFor(line('CAFÉ MÜLLER card 1234'), rules)?.id).toBe('cafe');
    expect(ruleFor(line('CAFE\u0301 MU\u0308LLER card 1234'), rules)?.id).toBe('cafe');
    expect(ruleFor(line('Café\u00a0 Müller'), rules)?.id).toBe('cafe');
    expect(ruleFor(line('RENT   MARCH  Landlord'), rules)?.id).toBe('rent');
    expect(ruleFor(line('ＲＥＮＴ ＭＡＲＣＨ'), rules)?.id).toBe('rent');
  });

  it('keeps to the direction and finds nothing for other text', () => {
    expect(ruleFor(line('RENT MARCH', '800.00'), rules)).toBeNull();
    expect(ruleFor(line('Bank fee', '-4.50'), rules)).toBeNull();
    expect(ruleFor(line('Bank fee', '4.50'), rules)?.id).toBe('fee');
    expect(ruleFor(line('Cafe Muller'), rules)).toBeNull();
  });
});
