// The validation catalogue (docs/validation-catalogue.md) defines the case numbers that test names cite
// ("#49", "#70-#85", "#38/#39"). This spec keeps the two in step with plain file reads, no servers:
// every number cited in a .ts file under test/ or libs/ must have an entry heading in the catalogue,
// and the catalogue's own headings must run #1, #2, ... without gaps or repeats. Cases that no test
// cites are listed for information only.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const cataloguePath = join(root, 'docs', 'validation-catalogue.md');
const thisFile = join(import.meta.dirname, basename(import.meta.filename));

/** A case number cited somewhere in the sources. */
interface Citation {
  readonly caseNumber: number;
  readonly where: string;
}

/** Entry headings look like `### #49 Token for another resource`. */
const HEADING = /^### #(\d+) \S/gm;
/** `#12`, `#70-#85`, `#70–#85`, `#70-85`; not `PKCS#1`, `&#39;` or `##`. */
const CITATION = /(?<![\w#&])#(\d{1,4})(?:\s*[-–]\s*#?(\d{1,4}))?(?!\w)/g;
/** `issue #9`, `PR #8595`, `stop #7` refer to trackers, not to catalogue cases. */
const TRACKER_PREFIX = /\b(?:issues?|PR|pull request|stop|commit)\s*$/i;
/** A range wider than this is taken as a typo rather than a citation of every case in it. */
const MAX_RANGE = 60;
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', 'coverage', 'fixtures']);

function typeScriptFiles(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name)) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...typeScriptFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.ts') && path !== thisFile) found.push(path);
  }
  return found;
}

/** Every case number cited in one source text; malformed ranges are returned separately. */
function citationsIn(text: string, file: string): { citations: Citation[]; malformed: string[] } {
  const citations: Citation[] = [];
  const malformed: string[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `${relative(root, file)}:${index + 1}`;
    for (const match of line.matchAll(CITATION)) {
      if (TRACKER_PREFIX.test(line.slice(0, match.index))) continue;
      const first = Number(match[1]);
      const last = match[2] === undefined ? first : Number(match[2]);
      if (last < first || last - first > MAX_RANGE) {
        malformed.push(`${match[0]} at ${where}`);
        continue;
      }
      for (let caseNumber = first; caseNumber <= last; caseNumber++) citations.push({ caseNumber, where });
    }
  });
  return { citations, malformed };
}

/** `[1, 2, 3, 7]` → `#1–#3, #7`. */
function formatCases(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; i++) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(j === i ? `#${numbers[i]}` : `#${numbers[i]}–#${numbers[j]}`);
    i = j;
  }
  return parts.join(', ');
}

describe('validation catalogue and the case numbers tests cite', () => {
  const catalogue = readFileSync(cataloguePath, 'utf8');
  const headings = [...catalogue.matchAll(HEADING)].map((match) => Number(match[1]));
  const defined = new Set(headings);
  const files = [...typeScriptFiles(join(root, 'test')), ...typeScriptFiles(join(root, 'libs'))];
  const scanned = files.map((file) => citationsIn(readFileSync(file, 'utf8'), file));
  const citations = scanned.flatMap((result) => result.citations);
  const malformed = scanned.flatMap((result) => result.malformed);

  it('defines each case once, in order from #1, with "### #<n> <title>" headings', () => {
    expect(headings.length).toBeGreaterThan(0);
    expect(headings).toEqual(headings.map((_, index) => index + 1));
  });

  it('finds case citations in the test sources (the scan itself works)', () => {
    expect(files.some((file) => file.endsWith('.e2e-spec.ts'))).toBe(true);
    expect(citations.length).toBeGreaterThan(0);
  });

  it('has no malformed case ranges in test names or comments', () => {
    expect(malformed).toEqual([]);
  });

  it('has a catalogue entry for every case number cited in test/ and libs/', () => {
    const undefinedCitations = citations.filter((citation) => !defined.has(citation.caseNumber)).map((citation) => `#${citation.caseNumber} at ${citation.where}`);
    expect(undefinedCitations).toEqual([]);
  });

  it('lists the catalogue cases that no test cites (informative, never fails)', () => {
    const cited = new Set(citations.map((citation) => citation.caseNumber));
    const uncited = headings.filter((caseNumber) => !cited.has(caseNumber));
    console.info(
      uncited.length === 0
        ? `Every one of the ${headings.length} catalogue cases is cited by a test.`
        : `Catalogue cases no test cites (${uncited.length} of ${headings.length}): ${formatCases(uncited)}`,
    );
    expect(uncited.length).toBeLessThanOrEqual(headings.length);
  });
});
