!=============================================================================!
! Serial driver for ELMAG 2.02 (Kachelriess, Ostapchenko & Tomas 2012,        !
! Comput. Phys. Commun. 183, 1036) used to validate our cascade Monte Carlo    !
! (docs/extragalactic.md, "Comparison with ELMAG"). Written for this project; !
! it replaces ELMAG's user file (user_variables, user_result, bemf,           !
! registerresult) and its MPI main program. ELMAG itself is not part of this  !
! repository: benchmarks/elmag/build.sh fetches and compiles it.              !
!                                                                             !
! Input: one namelist &run on stdin (see the defaults below). Output:         !
!   mode = 'cascade': photons arriving at z = 0 above E_thr_eV, binned like   !
!     montecarlo.cascade (E_thr_eV 10^(k / bins_per_decade)), with the sums   !
!     of weights and of per-primary squared weights, and the arriving energy  !
!     above 1e8 and 1e9 eV (sums and per-primary squares).                    !
!   mode = 'tau': the photon pair-production optical depth tau(E0, z) of      !
!     ELMAG's tabulated rate (rate_bb), observed energy E0, two ways: the     !
!     path integral (midpoint rule, 2000 steps) and ELMAG's own stepping      !
!     (rate frozen at the start of every step of dz <= 0.05, energy after     !
!     ELMAG's adiabatic update), whose exp(-tau) is the survival probability  !
!     of an unscattered primary in ELMAG's cascade routine.                   !
!   mode = 'rate': the photon interaction rate [1/cm] at local energy E and   !
!     redshift z, interpolated (rate_bb, as the cascade uses it) and computed !
!     directly (rate_EBL_tab, the tabulation's source).                       !
!=============================================================================!
module user_variables
  implicit none
  save
  integer :: model = 6                        ! Dominguez et al. (2011) EBL
  double precision :: ethr = 1.d8             ! energy threshold [eV]
  double precision :: egmax = 1.d14           ! top of ELMAG's rate tables [eV]
  double precision :: ir_rescale = 1.d0
  double precision :: cohlnth = 3.086d24      ! B-field coherence length [cm]
  double precision :: th_jet = 180.d0         ! jet opening [deg]: keep every photon
  double precision :: a_smp = 0.d0            ! ELMAG thinning exponent (0: none)
  double precision :: igmf = 1.d-20           ! extragalactic magnetic field [G]
  character(len=400) :: tablefile_n, tablefile_z, tablefile_redshift
end module user_variables

module user_result                           ! required by ELMAG's banner
  implicit none
end module user_result

module corona_tally
  implicit none
  save
  integer :: n_bins
  double precision :: ln_edge0, dln_edge
  double precision, allocatable :: w_one(:), w_sum(:), w_sq(:), edges_eV(:)
  double precision :: e_one(2), e_sum(2), e_sq(2), lepton_sum
end module corona_tally

double precision function bemf(r)            ! field strength at distance r [G]
  use user_variables, only : igmf
  implicit none
  double precision r
  bemf = igmf
end function bemf

subroutine registerresult(e0, theta, dt, weight, icq)
  ! called by ELMAG's cascade for every particle reaching z = 0 above ethr
  use corona_tally
  implicit none
  integer icq, i
  double precision e0, theta, dt, weight
  if (icq /= 0) then
     lepton_sum = lepton_sum + weight * e0
     return
  end if
  i = int(floor((log(e0) - ln_edge0) / dln_edge)) + 1
  if (i >= 1 .and. i <= n_bins) w_one(i) = w_one(i) + weight
  if (e0 > 1.d8) e_one(1) = e_one(1) + weight * e0
  if (e0 > 1.d9) e_one(2) = e_one(2) + weight * e0
end subroutine registerresult

program elmag_corona
  use user_variables
  use corona_tally
  use internal, only : iseed, bal
  use cosmology, only : t_0, H_0, Omega_m, Omega_v
  implicit none
  character(len=400) :: tables_dir = 'Tables', output = 'elmag.txt'
  character(len=16) :: mode = 'cascade'
  double precision :: z_source = 0.03d0, E_inj_min_eV = 1.d13, E_inj_max_eV = 1.d13
  double precision :: index = 2.d0, E_thr_eV = 1.d8, B_G = 1.d-20, E_bins_max_eV = 1.d14
  integer :: n_injected = 1000, seed = 1, bins_per_decade = 8, progress_every = 0
  namelist /run/ tables_dir, output, mode, z_source, E_inj_min_eV, E_inj_max_eV, index, &
       n_injected, seed, a_smp, B_G, E_thr_eV, E_bins_max_eV, bins_per_decade, egmax, &
       progress_every
  integer :: k, myid, n_proc, icq
  double precision :: E, E_inj_total, psran, g, u, weight, z_in
  real :: t_start, t_stop

  read(*, nml=run)
  ethr = E_thr_eV
  igmf = B_G
  tablefile_n = trim(tables_dir)//'/n_Dom.dat'
  tablefile_z = trim(tables_dir)//'/z-IR_Dom.dat'
  tablefile_redshift = trim(tables_dir)//'/redshift'
  myid = 0
  n_proc = 1
  call init(myid, n_proc)
  iseed = seed                       ! ran0 seeds itself from iseed on its first call

  if (trim(mode) == 'tau') then
     call write_tau(trim(output))
     stop
  end if
  if (trim(mode) == 'rate') then
     call write_rate(trim(output))
     stop
  end if

  n_bins = nint(log10(E_bins_max_eV / E_thr_eV) * bins_per_decade)
  allocate(w_one(n_bins), w_sum(n_bins), w_sq(n_bins), edges_eV(n_bins + 1))
  ln_edge0 = log(E_thr_eV)
  dln_edge = log(10.d0) / bins_per_decade
  edges_eV = E_thr_eV * 10.d0 ** ((/(k, k = 0, n_bins)/) / dble(bins_per_decade))
  w_sum = 0.d0; w_sq = 0.d0; e_sum = 0.d0; e_sq = 0.d0; lepton_sum = 0.d0
  E_inj_total = 0.d0
  bal = 0.d0
  g = 1.d0 - index
  call cpu_time(t_start)
  do k = 1, n_injected
     if (E_inj_max_eV > E_inj_min_eV) then          ! dN/dE ~ E^-index, inverse CDF
        u = psran()
        if (abs(g) < 1.d-12) then
           E = E_inj_min_eV * (E_inj_max_eV / E_inj_min_eV) ** u
        else
           E = (E_inj_min_eV ** g + u * (E_inj_max_eV ** g - E_inj_min_eV ** g)) ** (1.d0 / g)
        end if
     else
        E = E_inj_min_eV
     end if
     E_inj_total = E_inj_total + E
     w_one = 0.d0
     e_one = 0.d0
     icq = 0                        ! cascade overwrites its arguments: pass variables
     weight = 1.d0
     z_in = z_source
     call cascade(icq, E, weight, z_in)
     w_sum = w_sum + w_one
     w_sq = w_sq + w_one ** 2
     e_sum = e_sum + e_one
     e_sq = e_sq + e_one ** 2
     if (progress_every > 0) then
        if (mod(k, progress_every) == 0) write(*, *) 'primaries done:', k
     end if
  end do
  call cpu_time(t_stop)

  open(10, file=trim(output), status='replace')
  write(10, '(a)') '# ELMAG 2.02 (Kachelriess, Ostapchenko & Tomas 2012) via benchmarks/elmag/elmag_corona.f90'
  write(10, '(a)') '# EBL: Dominguez et al. (2011) (ELMAG model 6, Tables/n_Dom.dat of me-manu/myElmag202)'
  write(10, '(a,f8.4,a,f8.4,a,f8.4)') '# cosmology: flat, h = ', H_0 * 3.0856d17, &
       ', Omega_m = ', Omega_m, ', Omega_v = ', Omega_v
  write(10, '(a,es12.5,a,es12.5,a,es10.3)') '# B_G = ', igmf, '  a_smp = ', a_smp, &
       '  th_jet_deg = ', th_jet
  write(10, '(a,f10.5,a,es14.7,a,es14.7,a,f8.4)') '# z_source = ', z_source, &
       '  E_inj_min_eV = ', E_inj_min_eV, '  E_inj_max_eV = ', E_inj_max_eV, '  index = ', index
  write(10, '(a,i10,a,i10,a,es12.5,a,es12.5)') '# n_injected = ', n_injected, '  seed = ', seed, &
       '  E_thr_eV = ', ethr, '  egmax_eV = ', egmax
  write(10, '(a,es22.15)') '# E_injected_total_eV = ', E_inj_total
  write(10, '(a,2es22.15)') '# E_photons_above_1e8_1e9_eV_sum = ', e_sum
  write(10, '(a,2es22.15)') '# E_photons_above_1e8_1e9_eV_sumsq = ', e_sq
  write(10, '(a,es22.15)') '# E_leptons_arriving_eV = ', lepton_sum
  write(10, '(a,es22.15)') '# energy_balance_eV = ', bal
  write(10, '(a,f12.2)') '# cpu_s = ', t_stop - t_start
  write(10, '(a)') '# columns: E_lo_eV E_hi_eV sum_weights sum_per_primary_weights_squared'
  do k = 1, n_bins
     write(10, '(4es22.14)') edges_eV(k), edges_eV(k + 1), w_sum(k), w_sq(k)
  end do
  close(10)

contains

  subroutine write_tau(path)
    ! tau(E0, z) of photons observed at E0 from ELMAG's rate_bb (see the header)
    character(len=*), intent(in) :: path
    integer, parameter :: n_E = 25, n_fine = 2000
    double precision, parameter :: z_list(5) = (/0.03d0, 0.1d0, 0.3d0, 0.6d0, 1.d0/)
    double precision :: E0, tau_int, tau_step, zz, zz0, x, e_loc, tt, t0z, rate_bb, t_z, dx
    integer :: i, j, l
    open(11, file=path, status='replace')
    write(11, '(a)') '# ELMAG 2.02 photon optical depth from rate_bb (Dominguez et al. 2011 + CMB)'
    write(11, '(a,es12.5)') '# egmax_eV = ', egmax
    write(11, '(a)') '# columns: z_source E_obs_eV tau_path_integral tau_elmag_stepping'
    do j = 1, size(z_list)
       do i = 1, n_E
          E0 = 1.d10 * 10.d0 ** ((i - 1) / 8.d0)
          ! path integral: observed energy E0 is E0 (1 + z) locally
          tau_int = 0.d0
          do l = 1, n_fine
             zz0 = z_list(j) * (l - 1) / n_fine
             zz = z_list(j) * l / n_fine
             dx = (t_z(zz0) - t_z(zz)) * t_0 * 3.d10
             tau_int = tau_int + rate_bb(E0 * (1.d0 + 0.5d0 * (zz + zz0)), 0.5d0 * (zz + zz0), 0) * dx
          end do
          ! ELMAG's stepping: the rate of the start of a step of dz <= 0.05
          tau_step = 0.d0
          zz0 = z_list(j)
          e_loc = E0 * (1.d0 + z_list(j))
          t0z = t_z(zz0)
          do while (zz0 > 0.d0)
             zz = max(0.d0, zz0 - 0.05d0)
             tt = t_z(zz)
             x = (tt - t0z) * t_0 * 3.d10
             tau_step = tau_step + rate_bb(e_loc, zz0, 0) * x
             e_loc = e_loc - x / 3.d10 * e_loc * H_0 * sqrt(Omega_m * (1.d0 + zz) ** 3 + Omega_v)
             zz0 = zz
             t0z = tt
          end do
          write(11, '(f8.4,3es16.7)') z_list(j), E0, tau_int, tau_step
       end do
    end do
    close(11)
  end subroutine write_tau

  subroutine write_rate(path)
    character(len=*), intent(in) :: path
    integer :: i, j
    double precision :: E, zz, rate_bb, rate_EBL_tab
    open(12, file=path, status='replace')
    write(12, '(a)') '# ELMAG 2.02 photon pair-production rate on CMB + EBL (Dominguez et al. 2011)'
    write(12, '(a)') '# columns: z E_local_eV rate_bb_per_cm rate_EBL_tab_per_cm'
    do j = 0, 8
       zz = 0.125d0 * j
       do i = 1, 33
          E = 1.d10 * 10.d0 ** ((i - 1) / 8.d0)
          write(12, '(f8.4,3es16.7)') zz, E, rate_bb(E, zz, 0), rate_EBL_tab(E, zz, 0)
       end do
    end do
    close(12)
  end subroutine write_rate

end program elmag_corona
