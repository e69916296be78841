/** Word lists the simulated catalog builds its names from. */

export const adjectives: ReadonlyArray<string> = [
  "Silver", "Broken", "Electric", "Hollow", "Golden", "Midnight", "Velvet", "Crimson", "Quiet", "Wild",
  "Neon", "Paper", "Frozen", "Distant", "Burning", "Lonely", "Restless", "Hidden", "Bitter", "Sweet",
  "Empty", "Endless", "Fading", "Glass", "Heavy", "Northern", "Southern", "Secret", "Strange", "Young",
  "Last", "First", "Lucky", "Savage", "Tender", "Cold", "Bright", "Dark", "Slow", "Electric Blue",
  "Lost", "Falling", "Rising", "Sleeping", "Wandering", "Violet", "Amber", "Iron", "Little", "Royal"
]

export const nouns: ReadonlyArray<string> = [
  "River", "Heart", "Highway", "Garden", "Mirror", "Ocean", "Summer", "Winter", "Shadow", "Signal",
  "Thunder", "Window", "Harbor", "Desert", "Engine", "Lantern", "Satellite", "Machine", "Canyon", "Echo",
  "Forest", "Flame", "Horizon", "Island", "Kingdom", "Letter", "Moon", "Morning", "Night", "Orchard",
  "Planet", "Radio", "Rain", "Road", "Rose", "Saint", "Season", "Sky", "Smoke", "Star",
  "Storm", "Stranger", "Sun", "Tide", "Tower", "Train", "Valley", "Wave", "Wire", "Wolf"
]

export const pluralNouns: ReadonlyArray<string> = [
  "Wolves", "Lanterns", "Strangers", "Satellites", "Machines", "Echoes", "Ghosts", "Rivers", "Saints", "Sparrows",
  "Tigers", "Pilots", "Dreamers", "Arrows", "Comets", "Horses", "Engines", "Mirrors", "Shadows", "Waves",
  "Kings", "Queens", "Thieves", "Giants", "Foxes", "Ravens", "Oceans", "Signals", "Bones", "Hearts"
]

export const verbs: ReadonlyArray<string> = [
  "Chasing", "Leaving", "Holding", "Burning", "Dancing", "Running", "Waiting for", "Dreaming of", "Calling",
  "Finding", "Losing", "Crossing", "Breaking", "Watching", "Following", "Forgetting", "Remembering", "Saving"
]

export const firstNames: ReadonlyArray<string> = [
  "Ada", "Ben", "Clara", "Dmitri", "Elena", "Felix", "Grace", "Hugo", "Iris", "Jonas",
  "Kira", "Leo", "Maya", "Nico", "Olivia", "Pablo", "Quinn", "Rosa", "Sami", "Tessa",
  "Umar", "Vera", "Wes", "Xenia", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Dario"
]

export const lastNames: ReadonlyArray<string> = [
  "Adler", "Baptiste", "Carter", "Delgado", "Eriksen", "Fontaine", "Garcia", "Holm", "Ito", "Jansen",
  "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Park", "Quintero", "Rossi", "Silva", "Tanaka",
  "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zeller", "Novak", "Oyelaran", "Petrov", "Reyes"
]

export const genres: ReadonlyArray<string> = [
  "Rock", "Indie Rock", "Pop", "Synthpop", "Electronic", "House", "Techno", "Ambient", "Jazz", "Soul",
  "Funk", "Hip-Hop", "R&B", "Folk", "Country", "Blues", "Metal", "Punk", "Classical", "Reggae",
  "Shoegaze", "Post-Rock", "Dream Pop", "Trip-Hop", "Drum & Bass"
]

export const labels: ReadonlyArray<string> = [
  "Meridian Records", "Lowlight Music", "Paper Moon Recordings", "Northbound", "Static Bloom", "Blue Harbor",
  "Gravel & Glass", "Orchard Lane Records", "Quiet Engine", "Saturnine Sound", "Kestrel Audio", "Tall Grass Records"
]

/** ISO 3166 country codes for ISRC prefixes. */
export const countries: ReadonlyArray<string> = ["US", "GB", "DE", "FR", "SE", "NL", "JP", "CA", "AU", "BR"]

export const compilationTitles: ReadonlyArray<string> = [
  "Best of %", "Greatest Hits", "The Essential %", "Anthology", "The Very Best of %", "Collected"
]

export const playlistNouns: ReadonlyArray<string> = [
  "Mix", "Essentials", "Radio", "Rotation", "Favourites", "Session", "Drive", "Mornings", "Nights", "Workout"
]

export const curators: ReadonlyArray<string> = [
  "lyra", "sim editors", "night_owl", "vinyl_vera", "dj_kestrel", "morning_person", "crate_digger", "m.silva"
]
