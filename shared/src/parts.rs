//! The part plan of a multipart upload: how a file of a given size is cut into S3 parts. The
//! signer plans (and states the plan in the upload token); the page cuts the file by the same
//! numbers, so both run this code.
//!
//! S3's limits: at most 10,000 parts; every part 5 MiB to 5 GiB, except the last, which may be
//! smaller; an object of at most 5 TiB. All parts but the last have the plan's `part_size`.

use serde::{Deserialize, Serialize};

pub const MIB: u64 = 1024 * 1024;
/// The smallest part S3 accepts (but for the last).
pub const MIN_PART_BYTES: u64 = 5 * MIB;
/// The largest part S3 accepts.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * MIB;
pub const MAX_PARTS: u64 = 10_000;
/// The largest object S3 stores.
pub const MAX_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * MIB;
/// The smallest part a plan makes: a few seconds of a laptop's upload, so a failed part costs
/// little.
pub const DEFAULT_PART_BYTES: u64 = 8 * MIB;
/// A bigger file gets bigger parts, so that it is cut into about this many: each part costs a
/// request, a signature and the store's bookkeeping, which fewer, larger parts pay less often.
pub const PLANNED_PARTS: u64 = 64;
/// ... but no part larger than this until S3's 10,000 parts need it: what a reload or a dropped
/// connection loses of each part in flight.
pub const LARGEST_PLANNED_PART: u64 = 64 * MIB;

/// How one file is cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartPlan {
    /// The file's size in bytes.
    pub size: u64,
    /// The size of every part but the last.
    pub part_size: u64,
    /// How many parts (1 to 10,000).
    pub parts: u32,
}

impl PartPlan {
    /// The plan for `size` bytes: about [`PLANNED_PARTS`] parts of a whole number of MiB, from
    /// [`DEFAULT_PART_BYTES`] to [`LARGEST_PLANNED_PART`], and larger only when the file would
    /// otherwise need more than 10,000. `None` for 0 bytes or more than S3's largest object.
    pub fn for_size(size: u64) -> Option<PartPlan> {
        if size == 0 || size > MAX_OBJECT_BYTES {
            return None;
        }
        // `size` cut into `parts` parts, each rounded up to a whole MiB.
        let each = |parts: u64| size.div_ceil(parts).div_ceil(MIB) * MIB;
        let wanted = each(PLANNED_PARTS).clamp(DEFAULT_PART_BYTES, LARGEST_PLANNED_PART);
        PartPlan::with_part_size(size, wanted.max(each(MAX_PARTS)))
    }

    /// `size` cut into parts of `part_size`, if S3 accepts that: a whole number of MiB from 5 MiB
    /// to 5 GiB, at most 10,000 parts, 1 byte to 5 TiB. The signer plans with [`PartPlan::for_size`];
    /// a plan stated in a token or an answer is checked by this, so plans made by an earlier
    /// version of the rule (8 MiB parts, say) still resume.
    pub fn with_part_size(size: u64, part_size: u64) -> Option<PartPlan> {
        let fits = (1..=MAX_OBJECT_BYTES).contains(&size)
            && (MIN_PART_BYTES..=MAX_PART_BYTES).contains(&part_size)
            && part_size.is_multiple_of(MIB);
        if !fits {
            return None;
        }
        let parts = size.div_ceil(part_size);
        (parts <= MAX_PARTS).then_some(PartPlan {
            size,
            part_size,
            parts: parts as u32,
        })
    }

    /// Whether a plan (from a token, say) is one S3 accepts, with the part count its sizes give.
    pub fn is_valid(&self) -> bool {
        PartPlan::with_part_size(self.size, self.part_size) == Some(*self)
    }

    /// Part `number` (1-based) as `(offset, length)` in the file; `None` outside the plan.
    pub fn part(&self, number: u32) -> Option<(u64, u64)> {
        if number == 0 || number > self.parts {
            return None;
        }
        let offset = u64::from(number - 1) * self.part_size;
        Some((offset, self.part_size.min(self.size - offset)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(plan: PartPlan) -> Result<(), TestCaseError> {
        prop_assert!(
            plan.parts >= 1 && u64::from(plan.parts) <= MAX_PARTS,
            "{plan:?}"
        );
        prop_assert!(plan.part_size >= MIN_PART_BYTES && plan.part_size <= MAX_PART_BYTES);
        prop_assert_eq!(plan.part_size % MIB, 0);
        let mut total = 0u64;
        for number in 1..=plan.parts {
            let (offset, length) = plan.part(number).unwrap();
            prop_assert_eq!(offset, total);
            prop_assert!(length >= 1 && length <= plan.part_size);
            if number < plan.parts {
                prop_assert_eq!(length, plan.part_size);
            }
            total += length;
            // Only check the ends of long plans: the middle is the same arithmetic.
            if plan.parts > 64 && number == 32 {
                let last = plan.parts - 31;
                total = u64::from(last - 1) * plan.part_size;
                return check_tail(plan, last, total);
            }
        }
        prop_assert_eq!(total, plan.size);
        prop_assert_eq!(plan.part(0), None);
        prop_assert_eq!(plan.part(plan.parts + 1), None);
        Ok(())
    }

    fn check_tail(plan: PartPlan, from: u32, mut total: u64) -> Result<(), TestCaseError> {
        for number in from..=plan.parts {
            let (offset, length) = plan.part(number).unwrap();
            prop_assert_eq!(offset, total);
            total += length;
        }
        prop_assert_eq!(total, plan.size);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn every_size_gets_a_plan_s3_accepts(size in prop_oneof![
            1u64..=64 * MIB,
            1u64..=MAX_OBJECT_BYTES,
            (MAX_PARTS * LARGEST_PLANNED_PART - 4096)..=(MAX_PARTS * LARGEST_PLANNED_PART + 4096),
            (MAX_OBJECT_BYTES - 4096)..=MAX_OBJECT_BYTES,
        ]) {
            let plan = PartPlan::for_size(size).unwrap();
            prop_assert_eq!(plan.size, size);
            prop_assert!(plan.is_valid());
            check(plan)?;
        }
    }

    #[test]
    fn edges() {
        assert_eq!(PartPlan::for_size(0), None);
        assert_eq!(PartPlan::for_size(MAX_OBJECT_BYTES + 1), None);
        assert_eq!(
            PartPlan::for_size(1),
            Some(PartPlan {
                size: 1,
                part_size: DEFAULT_PART_BYTES,
                parts: 1
            })
        );
        let gib = PartPlan::for_size(1024 * MIB).unwrap();
        let largest = PartPlan::for_size(MAX_OBJECT_BYTES).unwrap();
        assert!(
            largest.parts <= 10_000 && largest.parts > 9_900,
            "{largest:?}"
        );
        assert!(largest.part_size <= MAX_PART_BYTES);
        // A plan someone changed is not valid.
        let tampered = PartPlan {
            part_size: MIB,
            ..gib
        };
        assert!(!tampered.is_valid());
        let miscounted = PartPlan {
            parts: gib.parts + 1,
            ..gib
        };
        assert!(!miscounted.is_valid());
        assert_eq!(
            gib.part(gib.parts),
            Some((gib.size - gib.part_size, gib.part_size))
        );
    }

    #[test]
    fn bigger_files_get_bigger_parts() {
        let plan = |size: u64| {
            let plan = PartPlan::for_size(size).unwrap();
            (plan.part_size / MIB, plan.parts)
        };
        // Up to 512 MiB: 8 MiB parts.
        assert_eq!(plan(100 * MIB), (8, 13));
        assert_eq!(plan(512 * MIB), (8, 64));
        // Then about 64 parts, a whole number of MiB each, up to 64 MiB.
        assert_eq!(plan(512 * MIB + 1), (9, 57));
        assert_eq!(plan(1024 * MIB), (16, 64));
        assert_eq!(plan(4096 * MIB), (64, 64));
        assert_eq!(plan(100 * 1024 * MIB), (64, 1600));
        // Past 625 GiB, 64 MiB parts would be more than 10,000.
        assert_eq!(plan(1024 * 1024 * MIB), (105, 9987));
    }

    #[test]
    fn plans_of_an_earlier_rule_still_hold() {
        // 8 MiB parts for every file up to 78 GiB, as tokens issued before bigger parts state.
        let earlier = PartPlan::with_part_size(1024 * MIB, 8 * MIB).unwrap();
        assert_eq!(earlier.parts, 128);
        assert!(earlier.is_valid());
        // What S3 would refuse is no plan.
        assert_eq!(PartPlan::with_part_size(1024 * MIB, 4 * MIB), None);
        assert_eq!(PartPlan::with_part_size(1024 * MIB, 8 * MIB + 1), None);
        assert_eq!(
            PartPlan::with_part_size(MAX_PART_BYTES * 3, MAX_PART_BYTES + MIB),
            None
        );
        assert_eq!(PartPlan::with_part_size(100_000 * MIB, 5 * MIB), None);
        assert_eq!(PartPlan::with_part_size(0, 8 * MIB), None);
        assert_eq!(
            PartPlan::with_part_size(MAX_OBJECT_BYTES + 1, 1024 * MIB),
            None
        );
    }

    #[test]
    fn the_json_is_pinned() {
        let plan = PartPlan::for_size(20 * MIB + 1).unwrap();
        assert_eq!(
            serde_json::to_string(&plan).unwrap(),
            r#"{"size":20971521,"partSize":8388608,"parts":3}"#
        );
    }
}
