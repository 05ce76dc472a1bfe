import type { PersonForLinkage } from './clk.js';

/*
 * Seeded synthetic people and households with KNOWN truth, for deduplication tests and the
 * benchmarks. PURE and deterministic: the same options give the same people on every machine.
 *
 * Made to be honest, not easy: names follow skewed (Zipf) frequencies within regional pools that
 * share names (Gurpreet is a man's and a woman's name; half of Sikh women are "Kaur"), so many
 * unrelated people share given and family names, as in Amritsar; household members share family
 * name, locality and often one mobile number; some adults were already registered with 01/01 of
 * an approximate year. Duplicates carry 1–3 realistic corruptions (FEBRL-style).
 */

/** The boundary codes of the localities of pb.amritsar in seed/boundary/pb.amritsar.json. */
export const AMRITSAR_LOCALITIES: readonly string[] = [
  'SUN04', 'SUN11', 'SUN12', 'SUN13', 'SUN20', 'SUN35', 'SUN40', 'SUN55', 'SUN02', 'SUN08', 'SUN18',
  'SUN23', 'SUN25', 'SUN31', 'SUN49', 'SUN62', 'SUN41', 'SUN45', 'SUN46', 'SUN54', 'SUN56', 'SUN75',
  'SUN80', 'SUN84', 'SUN105', 'SUN132', 'SUN138', 'SUN150', 'SU166', 'SUN167', 'SUN169', 'SUN170',
  'SUN109', 'SUN134', 'SUN136', 'SUN137', 'SUN144', 'SUN153', 'SUN158', 'SUN161', 'SUN173', 'SUN176',
  'SUN178', 'SUN194',
]; // prettier-ignore

export type Corruption =
  'typo' | 'swapNames' | 'transliteration' | 'missingField' | 'dayMonthSwap' | 'ageInsteadOfDate' | 'differentMobile' | 'movedLocality';

export type Relationship = 'HEAD' | 'SPOUSE' | 'CHILD' | 'PARENT';

export type SyntheticPerson = {
  /** Unique per record, e.g. `p-000042`. */
  readonly id: string;
  /** The id of the real person: a duplicate carries its original's truthId (the original's id). */
  readonly truthId: string;
  readonly householdId: string;
  readonly relationship: Relationship;
  readonly isDuplicate: boolean;
  /** What was done to a duplicate; empty for originals. */
  readonly corruptions: readonly Corruption[];
  /** The fields as a registrar would type them: DIGIT gender MALE/FEMALE/OTHER, dateOfBirth `dd/MM/yyyy`. */
  readonly person: Required<{ [K in keyof PersonForLinkage]: string | null }>;
};

export type SyntheticHousehold = {
  readonly id: string;
  readonly locality: string;
  readonly headId: string;
  readonly memberIds: readonly string[];
};

export type GenerateOptions = {
  /** PRNG seed: same seed, same people. */
  seed: number;
  /** Total records, duplicates included. */
  count: number;
  /** Share of records that are corrupted duplicates of another record (default 0.1). */
  duplicateRate?: number;
  /** Locality codes to spread households over (default: pb.amritsar's). */
  localities?: readonly string[];
  /** "Today" for ages, epoch ms (default 2026-01-01). */
  referenceTime?: number;
};

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: tiny, fast, good enough for test data; never for secrets. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Random = ReturnType<typeof createRandom>;

/** Zipf-weighted choice: the first items are much more common, as real name frequencies. */
function zipf<T>(items: readonly T[], exponent: number): (random: Random) => T {
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < items.length; i++) cumulative.push((total += 1 / Math.pow(i + 1, exponent)));
  return (random) => {
    const x = random.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo]!;
  };
}

// ---------------------------------------------------------------------------------------------
// Names (most frequent first within each list)

type Sex = 'MALE' | 'FEMALE';
type Region = {
  readonly name: string;
  readonly weight: number;
  readonly male: (r: Random) => string;
  readonly female: (r: Random) => string;
  readonly family: (r: Random) => string;
  /** A family name by sex instead of the household's (Singh/Kaur, Begum, Devi), with its probability. */
  readonly bySex?: { readonly male?: readonly [string, number]; readonly female?: readonly [string, number] };
  readonly middle?: (r: Random, sex: Sex) => string | null;
};

const words = (text: string) => text.trim().split(/\s+/);
// Name frequencies: the lists are short (the real tail of rare names is missing), so a flat-ish
// Zipf keeps the top given name near 8% of its pool and the top family name near 20%: name
// collisions between unrelated people are MORE frequent than in real registers, not less.
const GIVEN = 0.5;
const FAMILY = 0.8;

const REGIONS: readonly Region[] = [
  {
    name: 'punjabi-sikh',
    weight: 0.4,
    male: zipf(
      words(`Gurpreet Harpreet Manpreet Jaspreet Amandeep Navdeep Gurdeep Harjinder Sukhwinder Jaswinder Kulwinder
        Balwinder Paramjit Gurjit Harjit Jagjit Ranjit Inderjit Sarabjit Manjit Baljit Gurmeet Harbhajan Gurcharan
        Amrik Balbir Darshan Jaspal Harpal Rajinder Surinder Mohinder Jasbir Ravinder Tejinder Lakhwinder Gagandeep
        Simranjit Arshdeep Jashanpreet Karanveer Gurnoor Ekam Sahib Angad Hardeep Kuldeep Satnam Nirmal Avtar`),
      GIVEN,
    ),
    female: zipf(
      words(`Gurpreet Harpreet Manpreet Jaspreet Amandeep Navdeep Simran Harleen Gurleen Jasleen Manjit Paramjit
        Kulwinder Sukhwinder Jaswinder Rajwinder Balwinder Harjeet Gurmeet Sukhjeet Amarjit Kuldeep Baljeet Ranjit
        Rajinder Surinder Parminder Jasvir Navneet Ravneet Kiranjit Mandeep Sandeep Rupinder Harsimran Japneet
        Arshpreet Prabhjot Gurnoor Ekamjot Satwant Gurdev Charanjit Nirmal Balvir`),
      GIVEN,
    ),
    family: zipf(
      words(`Sandhu Gill Dhillon Sidhu Brar Grewal Randhawa Bajwa Sekhon Cheema Virk Mann Chahal Aulakh Dhaliwal
        Johal Kang Bains Bhullar Sohi Hundal Toor Pannu Khaira Sangha`),
      FAMILY,
    ),
    bySex: { male: ['Singh', 0.55], female: ['Kaur', 0.6] },
  },
  {
    name: 'punjabi-hindu',
    weight: 0.25,
    male: zipf(
      words(`Rajesh Ramesh Suresh Rakesh Sanjay Vijay Ajay Amit Sumit Rohit Mohit Rahul Vikas Vishal Deepak Anil Sunil
        Sandeep Pankaj Ashok Vinod Naresh Mukesh Dinesh Manoj Ravi Arun Varun Karan Arjun Aarav Vivaan Kabir Ishaan
        Yash Gaurav Nitin Sachin Tarun Lalit`),
      GIVEN,
    ),
    female: zipf(
      words(`Sunita Anita Kavita Neha Pooja Priya Meena Reena Seema Rekha Geeta Sita Asha Usha Nisha Shalini Anjali
        Ritu Sonia Renu Kiran Monika Shivani Deepika Aarti Jyoti Poonam Sapna Komal Simran Ananya Diya Isha Kritika
        Pallavi Preeti`),
      GIVEN,
    ),
    family: zipf(
      words(`Sharma Verma Gupta Arora Kapoor Malhotra Khanna Mehra Chopra Bhatia Sethi Kumar Joshi Saini Bansal Goyal
        Mittal Aggarwal Jain Bhalla Sood Walia Ahuja Tandon Anand Chawla Dhawan Grover Mehta Sachdeva`),
      FAMILY,
    ),
    bySex: { female: ['Rani', 0.05] },
    middle: (r, sex) => (sex === 'MALE' && r.chance(0.15) ? 'Kumar' : sex === 'FEMALE' && r.chance(0.08) ? 'Rani' : null),
  },
  {
    name: 'hindi-belt',
    weight: 0.12,
    male: zipf(
      words(`Ram Shyam Ramesh Rajendra Mahendra Surendra Dharmendra Birendra Santosh Manoj Pappu Raju Munna Ganesh
        Shiv Om Prakash Dinesh Umesh Lallan Sunil Anil Rakesh Vinod Sanjay`),
      GIVEN,
    ),
    female: zipf(
      words(`Sunita Savitri Kamla Shanti Lakshmi Radha Geeta Pushpa Sarita Rinki Pinki Guddi Mamta Anita Urmila Kusum
        Sushila Meera Rekha Suman`),
      GIVEN,
    ),
    family: zipf(words(`Kumar Yadav Singh Prasad Paswan Mahto Ram Sah Gupta Mishra Pandey Tiwari Chauhan Thakur Chaudhary`), FAMILY),
    bySex: { female: ['Devi', 0.5] },
    middle: (r, sex) => (sex === 'MALE' && r.chance(0.2) ? 'Kumar' : null),
  },
  {
    name: 'muslim',
    weight: 0.08,
    male: zipf(
      words(`Mohammad Mohammed Abdul Ahmed Ali Imran Irfan Salim Rashid Arif Asif Faisal Rizwan Shahid Javed Sajid Wasim
        Zubair Qasim Yusuf Iqbal Aslam`),
      GIVEN,
    ),
    female: zipf(
      words(`Fatima Ayesha Zainab Shabnam Nasreen Parveen Rukhsana Shabana Farzana Salma Noor Rubina Sana Zoya Heena
        Reshma Nazia Shazia`),
      GIVEN,
    ),
    family: zipf(words(`Khan Ali Ahmed Shaikh Ansari Qureshi Siddiqui Malik Hussain Rahman Mirza Pathan`), FAMILY),
    bySex: { female: ['Begum', 0.35] },
  },
  {
    name: 'south-indian',
    weight: 0.07,
    male: zipf(
      words(`Venkatesh Srinivas Ramesh Suresh Ravi Krishna Murali Prakash Raghu Anand Karthik Arun Senthil Balaji
        Ganesh Sathish Mahesh Naveen`),
      GIVEN,
    ),
    female: zipf(
      words(`Lakshmi Saraswati Padma Kavitha Anitha Deepa Divya Priya Revathi Meenakshi Sudha Vijaya Lalitha Bhavani
        Radha Sangeetha`),
      GIVEN,
    ),
    family: zipf(words(`Reddy Naidu Rao Nair Pillai Iyer Iyengar Menon Krishnan Subramanian Raju Murthy Shetty Gowda`), FAMILY),
  },
  {
    name: 'east-african',
    weight: 0.03,
    male: zipf(words(`John Peter Joseph David James Daniel Samuel Otieno Kiprono Hassan Brian Kevin`), GIVEN),
    female: zipf(words(`Mary Grace Faith Mercy Jane Esther Wanjiru Akinyi Amina Halima Sharon`), GIVEN),
    family: zipf(words(`Otieno Odhiambo Mwangi Kamau Njoroge Ochieng Kiprop Mutua Wanjiku Omondi Kariuki`), FAMILY),
  },
  {
    name: 'west-african',
    weight: 0.02,
    male: zipf(words(`Chinedu Emeka Oluwaseun Adebayo Ibrahim Musa Tunde Chukwuemeka Segun`), GIVEN),
    female: zipf(words(`Ngozi Chioma Funmilayo Aisha Blessing Adaeze Folake Amaka`), GIVEN),
    family: zipf(words(`Okafor Okonkwo Adeyemi Olawale Bello Abubakar Eze Nwosu Balogun`), FAMILY),
  },
  {
    name: 'bangladeshi',
    weight: 0.015,
    male: zipf(words(`Rahim Karim Rafiq Jahangir Habib Shafiqul Mizanur Anwar`), GIVEN),
    female: zipf(words(`Nasima Rokeya Shirin Taslima Jesmin Shahana`), GIVEN),
    family: zipf(words(`Rahman Hossain Islam Uddin Chowdhury Sarkar Miah`), FAMILY),
    bySex: { female: ['Akter', 0.4] },
  },
  {
    name: 'lusophone-african',
    weight: 0.015,
    male: zipf(words(`João José António Manuel Francisco Armando Celestino`), GIVEN),
    female: zipf(words(`Maria Ana Fátima Joana Luísa Graça`), GIVEN),
    family: zipf(words(`Macuácua Sitoe Cossa Mondlane Nhantumbo Chissano Mabunda`), FAMILY),
  },
];

const regionOf = (() => {
  const total = REGIONS.reduce((sum, r) => sum + r.weight, 0);
  return (random: Random): Region => {
    let x = random.next() * total;
    for (const region of REGIONS) if ((x -= region.weight) < 0) return region;
    return REGIONS[0]!;
  };
})();

// ---------------------------------------------------------------------------------------------
// People

const DAY = 86_400_000;
const YEAR = 365.2425 * DAY;
const pad2 = (n: number) => String(n).padStart(2, '0');
const formatDate = (d: Date) => `${pad2(d.getUTCDate())}/${pad2(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;

function randomMobile(random: Random): string {
  let out = String(random.int(6, 9));
  for (let i = 0; i < 9; i++) out += String(random.int(0, 9));
  return out;
}

type Draft = {
  id: string;
  householdId: string;
  relationship: Relationship;
  sex: Sex | 'OTHER';
  givenName: string;
  familyName: string | null;
  otherNames: string | null;
  birth: number;
  /** Registered with an approximate year only (01/01/yyyy). */
  approximate: boolean;
  mobileNumber: string | null;
  locality: string;
};

/**
 * Generates `count` people in households, `duplicateRate` of them corrupted copies of another
 * (default 10%), shuffled. Each record has a `truthId` (duplicates share their original's), a
 * household and the fields of a registration (`person`). Deterministic per `seed`. Use
 * `truthPairs()` for the pairs a deduplicator should find.
 *
 * @example const { people, households } = generatePeople({ seed: 42, count: 10_000 });
 */
export function generatePeople(options: GenerateOptions): { people: SyntheticPerson[]; households: SyntheticHousehold[] } {
  const random = createRandom(options.seed);
  const localities = options.localities ?? AMRITSAR_LOCALITIES;
  const pickLocality = zipf(localities, 0.5);
  const now = options.referenceTime ?? Date.UTC(2026, 0, 1);
  const duplicates = Math.round(options.count * (options.duplicateRate ?? 0.1));
  const originals = options.count - duplicates;

  const drafts: Draft[] = [];
  const households: Array<{ id: string; locality: string; headId: string; memberIds: string[] }> = [];
  let serial = 0;
  const nextId = () => `p-${String(++serial).padStart(6, '0')}`;

  while (drafts.length < originals) {
    const region = regionOf(random);
    const householdId = `h-${String(households.length + 1).padStart(6, '0')}`;
    const locality = pickLocality(random);
    const size = Math.min(originals - drafts.length, sizeOfHousehold(random));
    const clan = region.family(random);
    // Some households name everyone by sex (Singh/Kaur), others by the clan name.
    const bySexHousehold = random.chance(0.8);
    const headMobile = random.chance(0.9) ? randomMobile(random) : null;
    const headSex: Sex = random.chance(0.8) ? 'MALE' : 'FEMALE';
    const headAge = random.int(22, 75);
    const members: Draft[] = [];
    const usedGiven = new Set<string>();

    const member = (relationship: Relationship, sex: Sex, age: number): Draft => {
      let givenName = '';
      for (let attempt = 0; attempt < 30; attempt++) {
        givenName = (sex === 'MALE' ? region.male : region.female)(random);
        if (!usedGiven.has(givenName)) break;
      }
      usedGiven.add(givenName);
      const special = region.bySex?.[sex === 'MALE' ? 'male' : 'female'];
      const familyName = special && bySexHousehold && random.chance(special[1]) ? special[0] : random.chance(0.03) ? null : clan;
      const birth = now - age * YEAR - random.next() * YEAR;
      const adult = age >= 18;
      const mobileNumber =
        relationship === 'HEAD'
          ? headMobile
          : adult
            ? random.chance(0.55)
              ? randomMobile(random)
              : random.chance(0.75)
                ? headMobile
                : null
            : random.chance(0.6)
              ? headMobile
              : null;
      return {
        id: nextId(),
        householdId,
        relationship,
        sex: random.chance(0.003) ? 'OTHER' : sex,
        givenName,
        familyName,
        otherNames: region.middle?.(random, sex) ?? null,
        birth,
        approximate: age >= 40 && random.chance(0.15),
        mobileNumber,
        locality,
      };
    };

    members.push(member('HEAD', headSex, headAge));
    if (size >= 2) {
      const spouseAge = Math.max(18, headAge + (headSex === 'MALE' ? -random.int(0, 8) : random.int(0, 8)));
      members.push(member('SPOUSE', headSex === 'MALE' ? 'FEMALE' : 'MALE', spouseAge));
    }
    if (size >= 5 && headAge < 55 && random.chance(0.4))
      members.push(member('PARENT', random.chance(0.6) ? 'FEMALE' : 'MALE', headAge + random.int(20, 30)));
    // Children 1–4 years apart, the eldest born when the younger parent was 18–30; a young couple
    // has fewer (the household comes out smaller than drawn) and older children have moved out.
    const youngestParent = Math.floor(Math.min(...members.filter((m) => m.relationship !== 'PARENT').map((m) => (now - m.birth) / YEAR)));
    let childAge = Math.min(youngestParent - random.int(18, 30), random.int(12, 30));
    while (members.length < size && childAge >= 0) {
      members.push(member('CHILD', random.chance(0.52) ? 'MALE' : 'FEMALE', childAge));
      childAge -= random.int(1, 4);
    }
    drafts.push(...members);
    households.push({ id: householdId, locality, headId: members[0]!.id, memberIds: members.map((m) => m.id) });
  }

  const people: SyntheticPerson[] = drafts.map((d) => ({
    id: d.id,
    truthId: d.id,
    householdId: d.householdId,
    relationship: d.relationship,
    isDuplicate: false,
    corruptions: [],
    person: {
      givenName: d.givenName,
      familyName: d.familyName,
      otherNames: d.otherNames,
      dateOfBirth: d.approximate ? `01/01/${new Date(d.birth).getUTCFullYear()}` : formatDate(new Date(d.birth)),
      gender: d.sex,
      locality: d.locality,
      mobileNumber: d.mobileNumber,
    },
  }));

  const householdById = new Map(households.map((h) => [h.id, h]));
  for (let i = 0; i < duplicates; i++) {
    const at = random.int(0, drafts.length - 1);
    const draft = drafts[at]!;
    const original = people[at]!;
    const { person, corruptions } = corrupt(random, draft, original.person, now, localities);
    const id = nextId();
    // Registered a second time: half in the same household, half as a household of its own.
    let householdId = draft.householdId;
    if (random.chance(0.5)) {
      householdId = `h-${String(households.length + 1).padStart(6, '0')}`;
      households.push({ id: householdId, locality: person.locality ?? draft.locality, headId: id, memberIds: [id] });
    } else {
      householdById.get(householdId)!.memberIds.push(id);
    }
    people.push({
      id,
      truthId: original.id,
      householdId,
      relationship: householdId === draft.householdId ? 'CHILD' : 'HEAD',
      isDuplicate: true,
      corruptions,
      person,
    });
  }

  // Registration order is not truth order: shuffle (Fisher–Yates).
  for (let i = people.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [people[i], people[j]] = [people[j]!, people[i]!];
  }
  return { people, households };
}

function sizeOfHousehold(random: Random): number {
  const x = random.next();
  const cumulative = [0.1, 0.25, 0.43, 0.63, 0.78, 0.88, 0.95, 1];
  return cumulative.findIndex((c) => x < c) + 1;
}

// ---------------------------------------------------------------------------------------------
// Corruptions

type Fields = { -readonly [K in keyof SyntheticPerson['person']]: string | null };

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** One keystroke error in a word: insert, delete, substitute or transpose (Damerau's four). */
export function typo(random: Random, word: string): string {
  const chars = Array.from(word);
  if (chars.length < 3) return word + random.pick(Array.from(LETTERS));
  const at = random.int(1, chars.length - 1);
  const letter = random.pick(Array.from(LETTERS));
  switch (random.int(0, 3)) {
    case 0:
      chars.splice(at, 0, letter);
      break;
    case 1:
      chars.splice(at, 1);
      break;
    case 2:
      chars[at] = letter === chars[at] ? 'e' : letter;
      break;
    default:
      [chars[at - 1], chars[at]] = [chars[at]!, chars[at - 1]!];
  }
  return restoreCase(word, chars.join(''));
}

const restoreCase = (original: string, changed: string) =>
  original[0] === original[0]?.toUpperCase() ? changed.charAt(0).toUpperCase() + changed.slice(1).toLowerCase() : changed;

// Spelling variants of romanized names, each written both ways by real registrars.
const VARIANTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/ee/, 'i'], [/i(?=[^aeiou])/, 'ee'], [/oo/, 'u'], [/u(?=[^aeiou])/, 'oo'], [/w/, 'v'], [/v/, 'w'],
  [/sh/, 's'], [/s(?!h)/, 'sh'], [/ksh/, 'x'], [/x/, 'ksh'], [/bh/, 'b'], [/dh/, 'd'], [/th/, 't'],
  [/kh/, 'k'], [/a(?=[^aeiou])/, 'aa'], [/aa/, 'a'], [/y$/, 'i'], [/i$/, 'y'], [/ph/, 'f'], [/f/, 'ph'],
  [/z/, 'j'], [/q/, 'k'], [/([bcdfgklmnprt])(?=[aeiou])/, '$1$1'], [/au/, 'ou'], [/ou/, 'au'],
]; // prettier-ignore

/** One transliteration variant of a name (Pooja → Puja, Sukhwinder → Sukhvinder), or the name itself. */
export function transliterate(random: Random, word: string): string {
  const lower = word.toLowerCase();
  const applicable = VARIANTS.filter(([pattern]) => pattern.test(lower.slice(1)));
  if (applicable.length === 0) return word;
  const [pattern, replacement] = random.pick(applicable);
  return restoreCase(word, lower[0] + lower.slice(1).replace(pattern, replacement));
}

function randomWordOf(random: Random, text: string, change: (word: string) => string): string {
  const parts = text.split(' ');
  const at = random.int(0, parts.length - 1);
  parts[at] = change(parts[at]!);
  return parts.join(' ');
}

function corrupt(
  random: Random,
  draft: Draft,
  original: SyntheticPerson['person'],
  now: number,
  localities: readonly string[],
): { person: SyntheticPerson['person']; corruptions: Corruption[] } {
  const fields: Fields = { ...original };
  const done: Corruption[] = [];
  // Most second registrations differ in one thing; FEBRL's default allows up to three per record.
  const wanted = random.chance(0.65) ? 1 : random.chance(0.8) ? 2 : 3;
  const kinds: ReadonlyArray<readonly [Corruption, number]> = [
    ['typo', 0.3],
    ['transliteration', 0.2],
    ['swapNames', 0.08],
    ['missingField', 0.12],
    ['dayMonthSwap', 0.1],
    ['ageInsteadOfDate', 0.1],
    ['differentMobile', 0.1],
  ];
  const nameField = (): 'givenName' | 'familyName' => (fields.familyName && random.chance(0.5) ? 'familyName' : 'givenName');
  for (let attempt = 0; done.length < wanted && attempt < 20; attempt++) {
    let x = random.next();
    let kind: Corruption = 'typo';
    for (const [k, w] of kinds)
      if ((x -= w) < 0) {
        kind = k;
        break;
      }
    if (done.includes(kind)) continue;
    switch (kind) {
      case 'typo': {
        const field = nameField();
        fields[field] = randomWordOf(random, fields[field] ?? '', (w) => typo(random, w));
        break;
      }
      case 'transliteration': {
        const field = nameField();
        const before = fields[field] ?? '';
        fields[field] = randomWordOf(random, before, (w) => transliterate(random, w));
        if (fields[field] === before) continue;
        break;
      }
      case 'swapNames':
        if (!fields.familyName) continue;
        [fields.givenName, fields.familyName] = [fields.familyName, fields.givenName];
        break;
      case 'missingField': {
        // DIGIT HCM's registration form requires a date of birth or an age, so a missing date
        // is the rarer case; mobile numbers are optional and most often left out.
        const choice = random.next();
        if (choice < 0.2 && fields.dateOfBirth) fields.dateOfBirth = null;
        else if (choice < 0.65 && fields.mobileNumber) fields.mobileNumber = null;
        else if (choice < 0.85 && fields.familyName) fields.familyName = null;
        else if (fields.otherNames) fields.otherNames = null;
        else continue;
        break;
      }
      case 'dayMonthSwap': {
        const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(fields.dateOfBirth ?? '');
        // A form refuses month 13+, so only an ambiguous date can be swapped.
        if (!m || Number(m[1]) > 12 || m[1] === m[2]) continue;
        fields.dateOfBirth = `${m[2]}/${m[1]}/${m[3]}`;
        break;
      }
      case 'ageInsteadOfDate': {
        if (!fields.dateOfBirth || fields.dateOfBirth.startsWith('01/01/')) continue;
        const age = Math.floor((now - draft.birth) / YEAR);
        // Age heaping: older people often give a round age.
        const told = age >= 20 && random.chance(0.3) ? Math.round(age / 5) * 5 : age;
        fields.dateOfBirth = `01/01/${new Date(now).getUTCFullYear() - told - (random.chance(0.5) ? 1 : 0)}`;
        break;
      }
      case 'differentMobile':
        fields.mobileNumber = randomMobile(random);
        break;
      default:
        continue;
    }
    done.push(kind);
  }
  if (random.chance(0.03)) {
    fields.locality = random.pick(localities);
    done.push('movedLocality');
  }
  return { person: fields, corruptions: done };
}

/** The pairs of record ids that are the same person (a person with n records gives n·(n−1)/2 pairs). */
export function truthPairs(people: readonly SyntheticPerson[]): Set<string> {
  const byTruth = new Map<string, string[]>();
  for (const p of people) {
    const list = byTruth.get(p.truthId);
    if (list) list.push(p.id);
    else byTruth.set(p.truthId, [p.id]);
  }
  const pairs = new Set<string>();
  for (const ids of byTruth.values())
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) pairs.add(pairKey(ids[i]!, ids[j]!));
  return pairs;
}

/** An unordered pair as one string. */
export const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
