// staticnet/augment/all.hpp: the umbrella header of the augmentations.
//
// Image augmentation with albumentations 1.3's semantics, defaults and
// parameter names, on uint8 HWC images (channels interleaved, 1 or 3), ending
// in Normalize, which writes the float CHW tensor the model eats:
//
//   namespace aug = staticnet::augment;
//   const aug::Compose tf{aug::PadIfNeeded{.min_height = 40, .min_width = 40},
//                         aug::RandomCrop{.height = 32, .width = 32},
//                         aug::HorizontalFlip{},
//                         aug::Normalize{.mean = {0.4914, 0.4822, 0.4465}, .std = {0.2470, 0.2435, 0.2616}}};
//   tf(hwc, 32, 32, 3, chw_out, rng);   // std::mt19937_64 rng: reproducible
//
//   image.hpp               the uint8 HWC image
//   random.hpp              the draws (uniform, randint, coin) from std::mt19937_64
//   params.hpp              limit, channel_values, validation
//   border.hpp              BORDER_* modes, border_interpolate
//   warp_affine.hpp         cv2.getRotationMatrix2D / cv2.warpAffine (INTER_LINEAR, INTER_NEAREST)
//   transform.hpp           the protocol every transform follows
//   flip.hpp                HorizontalFlip
//   shift_scale_rotate.hpp  ShiftScaleRotate
//   coarse_dropout.hpp      CoarseDropout
//   to_gray.hpp             ToGray
//   pad_if_needed.hpp       PadIfNeeded
//   random_crop.hpp         RandomCrop
//   normalize.hpp           Normalize
//   compose.hpp             Compose
#pragma once
#include "image.hpp"
#include "random.hpp"
#include "params.hpp"
#include "border.hpp"
#include "warp_affine.hpp"
#include "transform.hpp"
#include "flip.hpp"
#include "shift_scale_rotate.hpp"
#include "coarse_dropout.hpp"
#include "to_gray.hpp"
#include "pad_if_needed.hpp"
#include "random_crop.hpp"
#include "normalize.hpp"
#include "compose.hpp"
