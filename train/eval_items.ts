// The small multiple-choice check of `llmjp4 eval`: Japanese and English items written for this
// project, each a context and choices scored by the summed log-probability the model gives each choice.
// Some are general knowledge, some are phrase completion, and a few quote the training texts' openings.
// This file is kept out of the `code` training corpus (train/data/corpus.ts) so no model sees the answers.

export interface ChoiceItem {
  id: string;
  lang: 'ja' | 'en';
  context: string;
  /** Continuations of the context; English ones begin with their space. */
  choices: string[];
  /** Index of the right choice. */
  answer: number;
}

export const CHOICE_ITEMS: readonly ChoiceItem[] = [
  {
    id: 'en-capital',
    lang: 'en',
    context: 'The capital of France is',
    choices: [' Paris.', ' Tokyo.', ' Cairo.', ' Lima.'],
    answer: 0,
  },
  { id: 'en-count', lang: 'en', context: 'One, two, three, four,', choices: [' twelve', ' five', ' nine'], answer: 1 },
  {
    id: 'en-sunrise',
    lang: 'en',
    context: 'Every morning the sun rises in the',
    choices: [' river.', ' cupboard.', ' east.'],
    answer: 2,
  },
  { id: 'en-week', lang: 'en', context: 'A week has seven', choices: [' days.', ' rivers.', ' kings.'], answer: 0 },
  { id: 'en-days', lang: 'en', context: 'Monday, Tuesday, Wednesday,', choices: [' seven', ' Thursday', ' January'], answer: 1 },
  { id: 'en-opposite', lang: 'en', context: 'The opposite of hot is', choices: [' tall.', ' quickly.', ' cold.'], answer: 2 },
  {
    id: 'en-door',
    lang: 'en',
    context: 'She opened the door and walked into the',
    choices: [' room.', ' of.', ' seven.'],
    answer: 0,
  },
  {
    id: 'en-sky',
    lang: 'en',
    context: 'Question: What colour is the sky on a clear day?\nAnswer:',
    choices: [' Purple.', ' Blue.', ' Green.'],
    answer: 1,
  },
  {
    id: 'en-scrooge',
    lang: 'en',
    context: '"Bah!" said Scrooge,',
    choices: [' "Hooray!"', ' "Thank you!"', ' "Humbug!"'],
    answer: 2,
  },
  { id: 'en-marley', lang: 'en', context: 'Marley was dead: to begin', choices: [' with.', ' again.', ' the.'], answer: 0 },
  { id: 'en-lord', lang: 'en', context: 'I thank you, my good', choices: [' was.', ' lord.', ' table.'], answer: 1 },
  {
    id: 'en-plural',
    lang: 'en',
    context: 'The children',
    choices: [' was playing in the garden.', ' were playing in the garden.'],
    answer: 1,
  },
  { id: 'ja-capital', lang: 'ja', context: '日本の首都は', choices: ['東京です。', 'パリです。', '北京です。'], answer: 0 },
  { id: 'ja-count', lang: 'ja', context: '一、二、三、', choices: ['百', '四', '九'], answer: 1 },
  { id: 'ja-seasons', lang: 'ja', context: '春、夏、秋、', choices: ['朝', '山', '冬'], answer: 2 },
  { id: 'ja-sunset', lang: 'ja', context: '太陽は東から昇り、西に', choices: ['沈む。', '泳ぐ。', '歌う。'], answer: 0 },
  { id: 'ja-coffee', lang: 'ja', context: '私は毎朝コーヒーを', choices: ['眠ります。', '飲みます。', '走ります。'], answer: 1 },
  {
    id: 'ja-umbrella',
    lang: 'ja',
    context: '雨が降っているので、傘を',
    choices: ['食べて出かけた。', '読んで出かけた。', 'さして出かけた。'],
    answer: 2,
  },
  { id: 'ja-fuji', lang: 'ja', context: '富士山は日本で一番高い', choices: ['山です。', '川です。', '魚です。'], answer: 0 },
  {
    id: 'ja-boil',
    lang: 'ja',
    context: '質問：水は何度で沸騰しますか？\n答え：',
    choices: ['千度です。', '百度です。', '十度です。'],
    answer: 1,
  },
  {
    id: 'ja-neko',
    lang: 'ja',
    context: '吾輩は猫である。名前は',
    choices: ['東京である。', '三つある。', 'まだ無い。'],
    answer: 2,
  },
  {
    id: 'ja-botchan',
    lang: 'ja',
    context: '親譲りの無鉄砲で小供の時から',
    choices: ['損ばかりしている。', '山ばかり登っている。', '空ばかり飛んでいる。'],
    answer: 0,
  },
  {
    id: 'ja-particle',
    lang: 'ja',
    context: '私は昨日、友達と映画',
    choices: ['に見ました。', 'を見ました。', 'が見ました。'],
    answer: 1,
  },
  {
    id: 'ja-greeting',
    lang: 'ja',
    context: '朝、人に会ったら「',
    choices: ['おやすみなさい」と言う。', 'いただきます」と言う。', 'おはようございます」と言う。'],
    answer: 2,
  },
];
